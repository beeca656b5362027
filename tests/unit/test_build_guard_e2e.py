"""A damaged build database is rebuilt from the raw lake, not fatal: on a small built ward, empty /
overwrite / truncate build/ward.duckdb and run again (ward/build_guard.py, ward/cli/run.py)."""

from __future__ import annotations

import io
import os
import shutil

import duckdb
import pytest

from tests.fixtures.pipeline import run_ward
from ward.generate import generate_ward
from ward.settings import Settings

pytestmark = pytest.mark.e2e

KEY = "k" * 32


def _marts(settings: Settings) -> dict[str, list[tuple]]:
    """Every published mart, rows sorted (what readers see)."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {
            name: sorted(con.execute(f"select * from marts.{name}").fetchall(), key=repr) for name in names
        }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ward")
    generate_ward(data_dir, people=1500, groups=6, seed=7)
    settings = Settings(data_dir=data_dir, shared_export_key=KEY)
    output = io.StringIO()
    assert run_ward(settings, output) == 0, output.getvalue()
    return data_dir, _marts(settings)


def _damage(path, how: str) -> None:
    if how == "emptied":  # `: > data/build/ward.duckdb`
        path.write_bytes(b"")
    elif how == "overwritten":  # random bytes over its head
        with path.open("r+b") as fh:
            fh.write(os.urandom(64 * 1024))
    else:  # a copy cut short: the catalog still reads, the blocks are missing
        os.truncate(path, int(path.stat().st_size * 0.99))


@pytest.mark.parametrize("how", ["emptied", "overwritten", "truncated"])
def test_a_damaged_build_database_is_rebuilt_and_the_run_says_why(built, tmp_path, how):
    data_dir, marts_before = built
    copy = tmp_path / "ward"
    shutil.copytree(data_dir, copy, symlinks=True)
    settings = Settings(data_dir=copy, shared_export_key=KEY)
    _damage(settings.build_db_path, how)

    output = io.StringIO()
    code = run_ward(settings, output)
    text = " ".join(output.getvalue().split())
    assert code == 0, text
    assert "was damaged" in text and "rebuilds it whole from the raw lake" in text
    aside = list(settings.build_db_path.parent.glob("ward.duckdb.damaged-*"))
    assert len(aside) == 1 and aside[0].name in text
    assert _marts(settings) == marts_before
