"""Exports and the shared tier: whole-set replacement, manifest, and no personal data shared."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ward.publish.exports import export_marts
from ward.publish.keyed_hash import hash_column, keyed_hash
from ward.publish.personal_data import shared_action
from ward.publish.warehouse import publish_warehouse

KEY = "k" * 32


@pytest.fixture
def build_db(tmp_path):
    path = tmp_path / "build.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.dim_citizen as select * from (values "
            "('p1', '031095012345', 'Nguyễn Văn An', date '1995-03-01', 'M', '0912345678', 1.0),"
            "('p2', null, 'Trần Thị Bình', date '2001-07-09', 'F', null, 0.5)"
            ") t(person_key, citizen_id, full_name, date_of_birth, sex, phone, match_confidence)"
        )
        con.execute(
            "create table marts.quarantine as select 'citizens' as source, "
            "'citizens/a.csv' as source_file, 3 as row_number, 'X' as value"
        )
        con.execute(
            "create table marts.deliveries as select 'citizens' as source, 'loaded' as status, "
            "date '2026-10-01' as extract_date"
        )
    return path


def test_shared_action_classifies_personal_columns():
    assert shared_action("full_name") == "drop"
    assert shared_action("date_of_birth") == "drop"
    assert shared_action("permanent_address") == "drop"
    assert shared_action("applicant_phone") == "drop"
    assert shared_action("citizen_id_raw") == "drop"
    assert shared_action("citizen_id") == "hash"
    assert shared_action("head_person_key") == "hash"
    assert shared_action("procedure_name") == "keep"
    assert shared_action("residential_group_no") == "keep"


def test_exports_write_manifest_and_shared_tier(build_db, tmp_path):
    exports = tmp_path / "exports"
    report = export_marts(build_db, exports, KEY)
    assert report.tables == {"deliveries": 1, "dim_citizen": 2, "quarantine": 1}
    manifest = json.loads((exports / "manifest.json").read_text())
    files = {f["file"]: f for f in manifest["files"]}
    assert files["dim_citizen.parquet"]["rows"] == 2
    assert manifest["extract_dates"] == {"citizens": ["2026-10-01"]}
    assert len(files["dim_citizen.parquet"]["sha256"]) == 64

    shared = pq.read_table(exports / "shared" / "dim_citizen.parquet")
    assert set(shared.column_names) == {"person_key", "citizen_id", "sex", "match_confidence"}
    assert shared["citizen_id"].to_pylist() == [keyed_hash(KEY.encode(), "031095012345"), None]
    assert "031095012345" not in (exports / "shared" / "dim_citizen.parquet").read_bytes().decode("latin-1")
    assert not (exports / "shared" / "quarantine.parquet").exists()


def test_shared_tier_skipped_without_key_says_how(build_db, tmp_path):
    report = export_marts(build_db, tmp_path / "exports", None)
    assert "WARD_SHARED_EXPORT_KEY" in report.shared_skipped_reason
    assert not (tmp_path / "exports" / "shared").exists()
    short = export_marts(build_db, tmp_path / "exports", "short")
    assert "shorter" in short.shared_skipped_reason


def test_hash_is_stable_for_one_key_and_differs_across_keys():
    assert keyed_hash(b"a" * 16, "x") == keyed_hash(b"a" * 16, "x")
    assert keyed_hash(b"a" * 16, "x") != keyed_hash(b"b" * 16, "x")


@pytest.mark.parametrize("key", [b"k" * 16, b"a key longer than SHA-256's block of 64 bytes " * 2])
def test_a_hashed_column_is_each_value_hashed_nulls_kept(key):
    column = pa.chunked_array([["001", "002", None], ["001", None, "Nguyễn Thị Ánh"], []])
    assert hash_column(key, column).to_pylist() == [keyed_hash(key, v) for v in column.to_pylist()]
    assert keyed_hash(key, "001") == hmac.new(key, b"001", hashlib.sha256).hexdigest()[:32]  # HMAC-SHA256


def test_a_new_export_replaces_the_old_set_whole(build_db, tmp_path):
    exports = tmp_path / "exports"
    export_marts(build_db, exports, KEY)
    first = exports.resolve()
    with duckdb.connect(str(build_db)) as con:
        con.execute("drop table marts.quarantine")
    export_marts(build_db, exports, KEY)
    assert exports.resolve() != first
    assert not (exports / "quarantine.parquet").exists()  # nothing left over from the old set
    assert first.exists()  # a reader of the old set is not cut off at once


def test_a_mart_built_from_the_same_inputs_is_linked_not_rewritten(build_db, tmp_path):
    exports = tmp_path / "exports"
    export_marts(build_db, exports, KEY, {"dim_citizen": "inputs-1"})
    first = exports.resolve()
    with duckdb.connect(str(build_db)) as con:  # the table changes, its token does not: reused
        con.execute("update marts.dim_citizen set full_name = 'X'")
    report = export_marts(build_db, exports, KEY, {"dim_citizen": "inputs-1"})
    assert report.reused == ["dim_citizen"]
    for tier in ("", "shared/"):
        assert (exports / f"{tier}dim_citizen.parquet").stat().st_ino == (
            first / f"{tier}dim_citizen.parquet"
        ).stat().st_ino
    assert not (exports / "deliveries.parquet").samefile(first / "deliveries.parquet")  # no token: rewritten
    assert "X" not in pq.read_table(exports / "dim_citizen.parquet")["full_name"].to_pylist()

    report = export_marts(build_db, exports, KEY, {"dim_citizen": "inputs-2"})  # new inputs
    assert report.reused == []
    assert "X" in pq.read_table(exports / "dim_citizen.parquet")["full_name"].to_pylist()

    second = exports.resolve()
    report = export_marts(build_db, exports, "another-key-0123456789", {"dim_citizen": "inputs-2"})
    assert report.reused == ["dim_citizen"]  # the ward tier holds no hash
    assert not (exports / "shared/dim_citizen.parquet").samefile(second / "shared/dim_citizen.parquet")


def test_publish_warehouse_swaps_in_a_readable_copy(build_db, tmp_path):
    target = tmp_path / "warehouse" / "ward.duckdb"
    publish_warehouse(build_db, target)
    first = target.stat().st_ino
    reader = duckdb.connect(str(target), read_only=True)  # an analyst holding the old file
    with duckdb.connect(str(build_db)) as con:
        con.execute("insert into marts.dim_citizen select * from marts.dim_citizen")
    publish_warehouse(build_db, target)
    assert reader.execute("select count(*) from marts.dim_citizen").fetchall()[0][0] == 2
    reader.close()
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_citizen").fetchall()[0][0] == 4
    # The replaced copies are freed in the background, never left to pile up; the last one replaced
    # is kept as the spare the next copy is written into (ward.publish.block_copy).
    deadline = time.monotonic() + 10
    while list(target.parent.glob(".ward.duckdb.replaced-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    spare = target.parent / ".ward.duckdb.spare"
    assert sorted(p.name for p in target.parent.iterdir()) == [spare.name, "ward.duckdb"]
    assert spare.stat().st_ino == first
    with duckdb.connect(str(build_db)) as con:
        con.execute("delete from marts.dim_citizen where rowid = 0")
    publish_warehouse(build_db, target)  # the reader has gone: its file is brought up to date
    assert target.stat().st_ino == first
    assert target.read_bytes() == build_db.read_bytes()
