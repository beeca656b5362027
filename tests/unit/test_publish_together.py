"""The warehouse and the exports are published together, or neither (ward.publish.together)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ward.publish.exports import export_marts
from ward.publish.together import PublishError, publish_together

KEY = "k" * 32


def _build(path: Path, residents: int) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            f"create or replace table marts.mart_population_by_group as select {residents} as residents"
        )
        con.execute(
            "create or replace table marts.deliveries as "
            "select 'citizens' as source, 'loaded' as status, date '2026-10-01' as extract_date"
        )
    return path


def _published(tmp_path: Path) -> tuple[int, int]:
    """(residents in the warehouse, residents in the exports) as a reader sees them now."""
    warehouse = tmp_path / "warehouse" / "ward.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        in_warehouse = con.execute("select residents from marts.mart_population_by_group").fetchall()[0][0]
    exports = tmp_path / "exports"
    with duckdb.connect() as con:
        path = exports / "mart_population_by_group.parquet"
        in_exports = con.execute(f"select residents from read_parquet('{path}')").fetchall()[0][0]
    manifest = json.loads((exports / "manifest.json").read_text())
    assert {f["file"] for f in manifest["files"]} == {
        "deliveries.parquet",
        "mart_population_by_group.parquet",
    }
    return in_warehouse, in_exports


def _publish(tmp_path: Path, build_db: Path, write=None):
    warehouse, exports = tmp_path / "warehouse" / "ward.duckdb", tmp_path / "exports"
    write = write or (lambda: export_marts(build_db, exports, KEY, swap=False))
    return publish_together(build_db, warehouse, exports, write)


def test_both_are_replaced_when_both_are_ready(tmp_path):
    _publish(tmp_path, _build(tmp_path / "build.duckdb", 100))
    assert _published(tmp_path) == (100, 100)
    _publish(tmp_path, _build(tmp_path / "build.duckdb", 120))
    assert _published(tmp_path) == (120, 120)


def test_a_failing_export_leaves_both_as_they_were(tmp_path, monkeypatch):
    build_db = _build(tmp_path / "build.duckdb", 100)
    _publish(tmp_path, build_db)
    _build(build_db, 120)
    versions_before = set((tmp_path / ".exports").iterdir())

    def broken_write_table(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr("ward.publish.exports._write_table", broken_write_table)
    with pytest.raises(PublishError, match="neither the warehouse nor the exports were replaced"):
        _publish(tmp_path, build_db)
    assert _published(tmp_path) == (100, 100)
    assert set((tmp_path / ".exports").iterdir()) == versions_before  # no half-written set left
    assert not list((tmp_path / "warehouse").glob(".ward.duckdb.tmp"))


def test_a_failing_swap_of_the_exports_puts_the_warehouse_back(tmp_path, monkeypatch):
    build_db = _build(tmp_path / "build.duckdb", 100)
    _publish(tmp_path, build_db)
    _build(build_db, 120)

    def broken_swap(*args, **kwargs):
        raise OSError("Read-only file system")

    monkeypatch.setattr("ward.publish.together.swap_symlink", broken_swap)
    with pytest.raises(PublishError, match="the warehouse was put back"):
        _publish(tmp_path, build_db)
    assert _published(tmp_path) == (100, 100)
