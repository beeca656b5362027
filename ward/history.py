"""Which citizens extract dates the history snapshots (dbt_project/snapshots) still have to take.

History is kept as of extract dates: `dbt snapshot` runs once per citizens extract date, in date
order, with that date as dbt's snapshot time (written to `history.snapshot_as_of` for the call:
dbt_project/macros/history/history_as_of.sql). It must not depend on how the extracts arrived:
replaying every landing file into an empty warehouse in one run has to give the same history as
receiving them one by one. So pipeline_state.processed (ward.build_state) records, per date taken,
a row of the step 'history': the ISO date as item, and as fingerprint the persons and households
state the snapshots read for it ('<persons>:<households>'); the history is rebuilt from the first
date (snapshot tables dropped, every date taken again) when

- an extract date arrives that is older than the latest one taken (SCD2 cannot insert the past),
- a date taken is gone, or the state of a date taken has changed (a corrected file, a relinked
  person), or no date taken is recorded while snapshot tables exist.

Otherwise only the dates after the latest one taken are pending. Fingerprints hash the state
columns the snapshots store, not lineage nor match figures: a re-delivered file with the same content
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from ward.build_state import forget_processed, processed_items, record_processed
from ward.catalog import table_exists

SCHEMA = "history"
STEP = "history"  # its rows of pipeline_state.processed: the dates taken
SNAPSHOT_TABLES = (f"{SCHEMA}.snp_persons", f"{SCHEMA}.snp_households")
AS_OF_TABLE = f"{SCHEMA}.snapshot_as_of"  # the date the next `dbt snapshot` takes, one row
# The columns snp_persons and snp_households store (their select lists; a unit test keeps them in
# step). Only these count: splink's match_confidence moves whenever new rows retrain it, and must not
# force a rebuild; a person_key or an ID that changes for a date taken must.
PERSON_COLUMNS = (
    "person_key", "citizen_id", "legacy_id", "full_name", "date_of_birth", "date_of_birth_precision",
    "sex", "ethnicity", "religion", "nationality", "residence_type", "household_id", "relation_to_head",
    "residential_group_no", "phone", "marital_status", "date_of_death",
)  # fmt: skip
HOUSEHOLD_COLUMNS = (
    "household_id", "head_citizen_id", "head_name", "address", "residential_group_no", "member_count",
    "household_type",
)  # fmt: skip


def _hash(columns: tuple[str, ...], alias: str) -> str:
    return f"bit_xor(hash({', '.join(f'{alias}.{c}' for c in columns)}))"


# Per citizens extract date: the persons of that snapshot, and the households of the latest
# households snapshot on or before it (what snp_persons and snp_households read).
_FINGERPRINTS = f"""
with
dates as (select distinct snapshot_date as as_of_date from intermediate.int_persons),
persons as (
    select p.snapshot_date as as_of_date, {_hash(PERSON_COLUMNS, "p")} as fingerprint
    from intermediate.int_persons as p group by 1
),
households_as_of as (
    select dates.as_of_date, max(h.snapshot_date) as snapshot_date
    from dates join intermediate.int_households as h on h.snapshot_date <= dates.as_of_date
    group by 1
),
households as (
    select households_as_of.as_of_date, {_hash(HOUSEHOLD_COLUMNS, "h")} as fingerprint
    from households_as_of join intermediate.int_households as h using (snapshot_date)
    group by 1
)
select dates.as_of_date, persons.fingerprint, coalesce(households.fingerprint, 0)
from dates join persons using (as_of_date) left join households using (as_of_date)
order by 1
"""


@dataclass(frozen=True)
class SnapshotPlan:
    pending: list[date]  # in date order
    rebuild: bool  # drop the snapshot tables and forget the dates taken first
    fingerprints: dict[date, tuple[int, int]]  # of every current extract date


def plan_snapshots(con: duckdb.DuckDBPyConnection) -> SnapshotPlan:
    current = {row[0]: (row[1], row[2]) for row in con.execute(_FINGERPRINTS).fetchall()}
    recorded = processed_items(con, STEP)  # {ISO date: fingerprint}
    taken = {date.fromisoformat(day): _parse(fingerprint) for day, fingerprint in recorded.items()}
    new = sorted(set(current) - set(taken))
    history_exists = any(table_exists(con, table) for table in SNAPSHOT_TABLES)
    rebuild = (
        any(current.get(day) != fingerprint for day, fingerprint in taken.items())
        or (bool(taken) and bool(new) and new[0] < max(taken))
        or (not taken and history_exists)
    )
    pending = sorted(current) if rebuild else new
    return SnapshotPlan(pending=pending, rebuild=rebuild, fingerprints=current)


def _parse(fingerprint: str) -> tuple[int, int]:
    persons, households = fingerprint.split(":")
    return int(persons), int(households)


def start_rebuild(con: duckdb.DuckDBPyConnection) -> None:
    for table in SNAPSHOT_TABLES:
        con.execute(f"drop table if exists {table}")
    forget_processed(con, STEP)


def record_taken(con: duckdb.DuckDBPyConnection, day: date, fingerprint: tuple[int, int]) -> None:
    persons, households = fingerprint
    record_processed(con, STEP, {day.isoformat(): f"{persons}:{households}"})


def set_as_of(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """The date the next `dbt snapshot` call stamps its rows with (read by its history_as_of())."""
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(f"create or replace table {AS_OF_TABLE} as select cast(? as date) as as_of_date", [day])


def clear_as_of(con: duckdb.DuckDBPyConnection) -> None:
    """No date left behind: a hand `dbt snapshot` without one fails and says how to run it."""
    con.execute(f"drop table if exists {AS_OF_TABLE}")
