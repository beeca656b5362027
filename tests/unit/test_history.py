"""ward.history: which extract dates the history snapshots still have to take, and when to rebuild."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from ward.history import plan_snapshots, record_taken, start_rebuild

OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema intermediate")
    con.execute(
        "create table intermediate.int_persons (snapshot_date date, person_key varchar, "
        "household_id varchar, source_file varchar, row_number integer, file_sha256 varchar, "
        "loaded_at timestamp)"
    )
    con.execute(
        "create table intermediate.int_households (snapshot_date date, household_id varchar, "
        "member_count integer, source_file varchar, row_number integer, file_sha256 varchar, "
        "loaded_at timestamp)"
    )
    yield con
    con.close()


def _deliver(con, day: date, persons: list[tuple[str, str]], file: str = "a.csv") -> None:
    for n, (key, household) in enumerate(persons, 1):
        con.execute(
            "insert into intermediate.int_persons values (?, ?, ?, ?, ?, 'sha', now())",
            [day, key, household, file, n],
        )


def _take(con, plan) -> None:
    if plan.rebuild:
        start_rebuild(con)
    for day in plan.pending:
        record_taken(con, day, plan.fingerprints[day])


def test_new_dates_are_pending_in_order_and_taken_once(con):
    _deliver(con, NOV, [("p1", "h1")])
    _deliver(con, OCT, [("p1", "h1"), ("p2", "h1")])
    plan = plan_snapshots(con)
    assert plan.pending == [OCT, NOV] and not plan.rebuild
    _take(con, plan)
    assert plan_snapshots(con).pending == []
    _deliver(con, DEC, [("p1", "h2")])
    plan = plan_snapshots(con)
    assert plan.pending == [DEC] and not plan.rebuild


def test_the_same_content_delivered_again_changes_nothing(con):
    _deliver(con, OCT, [("p1", "h1")])
    _take(con, plan_snapshots(con))
    con.execute("update intermediate.int_persons set source_file = 'copy.csv', loaded_at = now()")
    assert plan_snapshots(con).pending == []


@pytest.mark.parametrize("change", ["older_date", "changed_past", "removed_past"])
def test_history_is_rebuilt_when_the_past_changes(con, change):
    _deliver(con, OCT, [("p1", "h1")])
    _deliver(con, NOV, [("p1", "h2")])
    _take(con, plan_snapshots(con))
    con.execute("create table history.snp_persons as select 1 as x")
    if change == "older_date":
        _deliver(con, date(2026, 9, 1), [("p1", "h0")])
    elif change == "changed_past":
        con.execute("update intermediate.int_persons set household_id = 'h9' where snapshot_date = ?", [OCT])
    else:
        con.execute("delete from intermediate.int_persons where snapshot_date = ?", [OCT])
    plan = plan_snapshots(con)
    assert plan.rebuild and plan.pending == sorted(plan.fingerprints)
    _take(con, plan)
    assert con.execute(
        "select count(*) from information_schema.tables where table_name = 'snp_persons'"
    ).fetchall() == [(0,)]
    assert plan_snapshots(con).pending == []


def test_households_count_as_of_the_latest_list_on_or_before_the_date(con):
    _deliver(con, OCT, [("p1", "h1")])
    _deliver(con, NOV, [("p1", "h1")])
    con.execute(
        "insert into intermediate.int_households values (?, 'h1', 1, 'h.csv', 1, 'sha', now())", [OCT]
    )
    _take(con, plan_snapshots(con))
    # a households list dated after the last citizens date does not touch the history taken
    con.execute(
        "insert into intermediate.int_households values (?, 'h1', 2, 'h.csv', 1, 'sha', now())", [DEC]
    )
    assert plan_snapshots(con).pending == []
    # one dated between two citizens dates changes the households state as of the later one
    con.execute(
        "insert into intermediate.int_households values (?, 'h1', 3, 'h.csv', 1, 'sha', now())", [NOV]
    )
    assert plan_snapshots(con).rebuild
