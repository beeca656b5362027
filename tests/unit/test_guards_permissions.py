"""Personal files are owner-only (0600 / 0700), or readable by the WARD_READERS_GROUP group (0640 /
0750); the shared tier stays 0644 / 0755. Each writer is called directly on small inputs."""

from __future__ import annotations

import grp
import os
import stat
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.unit.test_ingest import NOW, csv_text, drop, table
from ward.corrections.ingest import ingest_corrections
from ward.ingest.load import ingest_landing
from ward.publish.exports import export_marts
from ward.publish.warehouse import publish_warehouse
from ward.settings import Settings


@pytest.fixture(autouse=True)
def usual_umask():
    """The usual umask (022), under which files come out 0644 unless the writer says otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def modes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): mode(p) for p in [root, *root.rglob("*")]}


def own_group() -> str:
    """A group this account may give its files to (its primary group)."""
    return grp.getgrgid(os.getgid()).gr_name


def ingested(settings: Settings) -> None:
    drop(settings, "citizens/ds_2026-10-01.csv", csv_text(table()).encode())
    drop(settings, "citizens/empty.csv", b"")  # rejected: copied to rejected/ with its reason
    ingest_landing(settings, now=NOW)
    folder = settings.landing_dir / "corrections"
    folder.mkdir()
    (folder / "sua.csv").write_text(
        "source_file,row_number,column,new_value\ncitizens/ds_2026-10-01.csv,1,sex,Nam\n"
    )
    ingest_corrections(settings, now=datetime(2026, 10, 2))


@pytest.mark.parametrize("group", [None, "readers"])
def test_raw_lake_ledger_rejected_copies_and_build_folder(tmp_path, group):
    group = own_group() if group else None
    settings = Settings(data_dir=tmp_path / "data", readers_group=group)
    ingested(settings)
    file_mode, dir_mode = (0o640, 0o750) if group else (0o600, 0o700)
    written = {
        **{f"raw/{k}": v for k, v in modes(settings.raw_dir).items()},
        **{f"rejected/{k}": v for k, v in modes(settings.rejected_dir).items()},
        "build": mode(settings.build_db_path.parent),
    }
    assert len([p for p in written if p.endswith(".parquet")]) >= 6  # raw, _empty x4, ledger, corrections
    assert "rejected/citizens/empty.csv.reason.txt" in written
    wrong = {
        p: oct(m)
        for p, m in written.items()
        if m != (dir_mode if (settings.data_dir / p).is_dir() else file_mode)
    }
    assert wrong == {}
    if group:
        gid = grp.getgrnam(group).gr_gid
        assert {(settings.data_dir / p).lstat().st_gid for p in written} == {gid}


def test_settings_read_the_readers_group():
    assert Settings.from_env({"WARD_READERS_GROUP": "ward-analysts"}).readers_group == "ward-analysts"
    assert Settings.from_env({}).readers_group is None


def test_an_unknown_group_keeps_files_owner_only(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", readers_group="no-such-group-of-the-ward")
    ingested(settings)
    assert mode(settings.ledger_path) == 0o600 and mode(settings.raw_dir) == 0o700


@pytest.fixture
def build_db(tmp_path) -> Path:
    path = tmp_path / "build" / "ward.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.dim_citizen as select 'p1' as person_key, '031095012345' as citizen_id, "
            "'Nguyễn Văn An' as full_name, 1 as residential_group_no"
        )
        con.execute(
            "create table marts.deliveries as select 'citizens' as source, 'loaded' as status, "
            "date '2026-10-01' as extract_date"
        )
    return path


@pytest.mark.parametrize("group", [None, "readers"])
def test_warehouse_and_build_database(build_db, tmp_path, group):
    group = own_group() if group else None
    warehouse = tmp_path / "warehouse" / "ward.duckdb"
    publish_warehouse(build_db, warehouse, readers_group=group)
    file_mode, dir_mode = (0o640, 0o750) if group else (0o600, 0o700)
    assert (mode(warehouse), mode(warehouse.parent), mode(build_db)) == (file_mode, dir_mode, file_mode)
    publish_warehouse(build_db, warehouse, readers_group=group)  # replaced: the new copy too
    assert mode(warehouse) == file_mode


def test_full_exports_are_private_and_the_shared_tier_is_not(build_db, tmp_path):
    exports = tmp_path / "exports"
    export_marts(build_db, exports, "k" * 32)
    live = exports.resolve()
    assert mode(live / "dim_citizen.parquet") == 0o600 and mode(live / "manifest.json") == 0o600
    assert mode(live) == 0o711  # others may pass through to shared/, not list the set
    assert mode(live / "shared") == 0o755
    assert mode(live / "shared" / "dim_citizen.parquet") == 0o644
    assert mode(live / "shared" / "manifest.json") == 0o644
    export_marts(build_db, exports, "k" * 32, readers_group=own_group())
    assert mode(exports.resolve() / "dim_citizen.parquet") == 0o640


def test_a_worklist_is_owner_only(tmp_path, monkeypatch):
    import ward.cli.worklist as worklist

    monkeypatch.setattr(worklist, "group_worklist", lambda warehouse, group: pl.DataFrame({"Họ tên": ["An"]}))
    sheet = tmp_path / "to_3.xlsx"
    assert worklist.write_worklist(tmp_path / "warehouse.duckdb", 3, sheet) == 1
    assert mode(sheet) == 0o600
