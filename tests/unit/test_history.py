"""ward.history: which extract dates the history snapshots still have to take, and when to rebuild."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest

from ward.build_state import processed_items
from ward.history import HOUSEHOLD_COLUMNS, PERSON_COLUMNS, plan_snapshots, record_taken, start_rebuild
from ward.settings import DBT_PROJECT_DIR

OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema intermediate")
    lineage = "source_file varchar, row_number integer, file_sha256 varchar, loaded_at timestamp"
    persons = ", ".join(f"{c} varchar" for c in PERSON_COLUMNS)
    households = ", ".join(f"{c} varchar" for c in HOUSEHOLD_COLUMNS)
    con.execute(
        f"create table intermediate.int_persons (snapshot_date date, {persons}, "
        f"match_confidence double, {lineage})"
    )
    con.execute(f"create table intermediate.int_households (snapshot_date date, {households}, {lineage})")
    yield con
    con.close()


def _deliver(con, day: date, persons: list[tuple[str, str]], file: str = "a.csv") -> None:
    for n, (key, household) in enumerate(persons, 1):
        con.execute(
            "insert into intermediate.int_persons (snapshot_date, person_key, household_id, "
            "match_confidence, source_file, row_number, file_sha256, loaded_at) "
            "values (?, ?, ?, 1.0, ?, ?, 'sha', now())",
            [day, key, household, file, n],
        )


def _list(con, day: date, household: str, members: str) -> None:
    con.execute(
        "insert into intermediate.int_households (snapshot_date, household_id, member_count, source_file, "
        "row_number, file_sha256, loaded_at) values (?, ?, ?, 'h.csv', 1, 'sha', now())",
        [day, household, members],
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
    # the same rows in another file, relinked with another probability: not a change of what is kept
    con.execute("update intermediate.int_persons set source_file = 'copy.csv', match_confidence = 0.9")
    assert plan_snapshots(con).pending == []


@pytest.mark.parametrize("change", ["older_date", "changed_past", "removed_past"])
def test_history_is_rebuilt_when_the_past_changes(con, change):
    _deliver(con, OCT, [("p1", "h1")])
    _deliver(con, NOV, [("p1", "h2")])
    _take(con, plan_snapshots(con))
    con.execute("create schema if not exists history")
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
    # the dates taken are those of this rebuild alone (a removed date is forgotten)
    assert sorted(processed_items(con, "history")) == [day.isoformat() for day in plan.pending]
    assert plan_snapshots(con).pending == []


def test_households_count_as_of_the_latest_list_on_or_before_the_date(con):
    _deliver(con, OCT, [("p1", "h1")])
    _deliver(con, NOV, [("p1", "h1")])
    _list(con, OCT, "h1", "1")
    _take(con, plan_snapshots(con))
    # a households list dated after the last citizens date does not touch the history taken
    _list(con, DEC, "h1", "2")
    assert plan_snapshots(con).pending == []
    # one dated between two citizens dates changes the households state as of the later one
    _list(con, NOV, "h1", "3")
    assert plan_snapshots(con).rebuild


@pytest.mark.parametrize(
    ("snapshot", "columns"), [("snp_persons", PERSON_COLUMNS), ("snp_households", HOUSEHOLD_COLUMNS)]
)
def test_fingerprinted_columns_are_those_the_snapshots_keep(snapshot, columns):
    sql = (DBT_PROJECT_DIR / "snapshots" / f"{snapshot}.sql").read_text()
    select = re.search(r"\n\s*select\n(.*?)\n\s*from ", sql, re.S).group(1)
    assert tuple(line.strip().rstrip(",") for line in select.splitlines()) == columns
