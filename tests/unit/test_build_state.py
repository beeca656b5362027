"""ward.build_state: the one record of what each step processed (pipeline_state.processed)."""

from __future__ import annotations

import duckdb
import pytest

from ward.build_state import (
    forget_processed,
    is_unchanged,
    processed_items,
    quality_item_sql,
    record_processed,
    store_fingerprint,
    stored_fingerprint,
)


@pytest.fixture
def con():
    con = duckdb.connect()
    yield con
    con.close()


def _tables(con) -> set[str]:
    rows = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    return {r[0] for r in rows}


def test_record_read_forget_round_trip(con):
    record_processed(con, "history", {"2026-10-01": "1:2", "2026-11-01": "3:4"})
    record_processed(con, "quality", {"citizens/a@": "rules"})
    assert processed_items(con, "history") == {"2026-10-01": "1:2", "2026-11-01": "3:4"}
    record_processed(con, "history", {"2026-11-01": "5:6"})  # insert or replace
    assert processed_items(con, "history") == {"2026-10-01": "1:2", "2026-11-01": "5:6"}
    forget_processed(con, "history", ["2026-10-01"])
    assert processed_items(con, "history") == {"2026-11-01": "5:6"}
    forget_processed(con, "history")
    assert processed_items(con, "history") == {}
    assert processed_items(con, "quality") == {"citizens/a@": "rules"}  # other steps untouched


def test_fingerprints_are_the_item_of_a_whole_input(con):
    assert stored_fingerprint(con, "identity") is None and not is_unchanged(con, "identity", "f1")
    store_fingerprint(con, "identity", "f1")
    assert stored_fingerprint(con, "identity") == "f1" and processed_items(con, "identity") == {"": "f1"}
    assert is_unchanged(con, "identity", "f1") and not is_unchanged(con, "identity", None)
    store_fingerprint(con, "identity", None)  # until the step succeeds again
    assert stored_fingerprint(con, "identity") is None


def test_nothing_recorded_reads_empty_on_a_read_only_connection(tmp_path):
    path = str(tmp_path / "ward.duckdb")
    duckdb.connect(path).close()
    with duckdb.connect(path, read_only=True) as con:
        assert processed_items(con, "quality") == {}
        assert stored_fingerprint(con, "dbt_downstream") is None
    with duckdb.connect(path) as con:
        store_fingerprint(con, "dbt_downstream", "f")
    with duckdb.connect(path, read_only=True) as con:
        assert stored_fingerprint(con, "dbt_downstream") == "f"
        assert processed_items(con, "missing") == {}


def test_the_three_former_records_are_dropped_when_the_table_is_created(con):
    con.execute("create schema pipeline_state")
    con.execute("create table pipeline_state.fingerprints (consumer varchar, fingerprint varchar)")
    con.execute("insert into pipeline_state.fingerprints values ('identity', 'f-old')")
    con.execute("create schema quality")
    con.execute("create table quality.evaluated_files (source varchar, rules_fingerprint varchar)")
    con.execute("create table quality.row_issues (source varchar)")
    con.execute("create schema history")
    con.execute("create table history.snapshot_dates (as_of_date date)")
    con.execute("create table history.snp_persons (person_key varchar)")
    assert stored_fingerprint(con, "identity") is None  # the former record is not read
    store_fingerprint(con, "dbt_downstream", "f")
    assert _tables(con) == {
        "pipeline_state.processed",
        "quality.row_issues",
        "history.snp_persons",
    }
    con.execute("create table quality.evaluated_files (x integer)")  # once created, nothing more is dropped
    record_processed(con, "quality", {"citizens/a@": "rules"})
    assert "quality.evaluated_files" in _tables(con)


@pytest.mark.parametrize(
    ("sha", "staged_at", "item"),
    [
        ("'abc'", "timestamp '2026-03-01 08:00'", "citizens/abc@2026-03-01 08:00:00"),
        ("null", "timestamp '2026-03-01 08:00'", "citizens/@2026-03-01 08:00:00"),
        ("'abc'", "null", "citizens/abc@"),
        ("null", "null", "citizens/@"),
    ],
)
def test_quality_item_is_one_string_even_without_sha256_or_staged_at(con, sha, staged_at, item):
    con.execute(
        f"create table staged as select 'citizens' as source, cast({sha} as varchar) as file_sha256, "
        f"cast({staged_at} as timestamp) as staged_at"
    )
    expression = quality_item_sql("source", "file_sha256", "staged_at")
    assert con.execute(f"select {expression} from staged").fetchall() == [(item,)]
    # the anti join of ward.quality.evaluate finds a file recorded with the same item, NULLs included
    record_processed(con, "quality", {item: "rules"})
    pending = con.execute(
        "select count(*) from staged anti join "
        "(select item from pipeline_state.processed where step = 'quality') as done "
        f"on done.item = {expression}"
    ).fetchall()
    assert pending == [(0,)]
