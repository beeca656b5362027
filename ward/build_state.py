"""What each incremental step last built from, so that a run redoes only what its new inputs touch.

A step's inputs are summed up in a fingerprint: per source, each staged file (its sha256 and when
its rows were staged) and the rule issues found on its rows. The step stores the fingerprint it
built from once it succeeds; the next run compares. A new citizens snapshot, a restaged file (full
refresh, correction) or a change of the rules changes it; a new service-record extract leaves the
citizens' fingerprint as it was.

One table of the build database keeps this record for every step, beside the landing ledger
(raw/deliveries.parquet): `pipeline_state.processed (step, item, fingerprint, processed_at)`, one
row per item a step processed and the fingerprint it processed it under.

- step: who processed — a consumer of stored fingerprints ('identity', 'dbt_downstream',
  'dbt_staging_project', ...), 'quality' or 'history';
- item: what it processed — '' for a step's whole input (`stored_fingerprint`, `store_fingerprint`,
  `is_unchanged`); '<source>/<file_sha256>@<staged_at>' per staged file for 'quality', under the
  rules' fingerprint (`quality_item_sql`, ward.quality.evaluate); the ISO extract date for
  'history', under the persons and households fingerprints of that date (ward.history).

A build database from before this table kept three (pipeline_state.fingerprints,
quality.evaluated_files, history.snapshot_dates): they are dropped when the table is created. With no
row recorded the pipeline re-derives everything once, as on a first build: quality evaluates every
staged file again, persons and identity are rebuilt, and the history is rebuilt from the first
extract date.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import duckdb

from ward.catalog import table_exists
from ward.ingest.load import CORRECTIONS_FOLDER
from ward.quality.rules import STAGED_MODELS
from ward.settings import Settings

FULL_REFRESH_TAG = "ward/full_refresh"  # run tag: restage and rebuild everything
# run tag: why this run rebuilds a build database it found damaged (ward.build_guard), for the step log
BUILD_DB_RECOVERED_TAG = "ward/build_db_recovered"

# The consumers whose fingerprints plan the next run (orchestration/selection.py): the persons models
# of dbt phase 2, and staging's view of the stewards' corrections.
PERSONS_CONSUMER = "dbt_downstream"
CORRECTIONS_CONSUMER = "dbt_staging_corrections"

# No Python name `processed` where this table is queried: DuckDB would scan that object when the
# table is missing (a replacement scan) instead of raising CatalogException.
TABLE = "pipeline_state.processed"
WHOLE_INPUT = ""  # the item of a step that processes its input whole

_DDL = f"""
create schema if not exists pipeline_state;
create table if not exists {TABLE} (
    step varchar not null,
    item varchar not null,
    fingerprint varchar not null,
    processed_at timestamp not null,
    primary key (step, item)
);
"""
# The records this table replaces (one table each before): dropped on upgrade, re-derived once.
_FORMER_TABLES = ("pipeline_state.fingerprints", "quality.evaluated_files", "history.snapshot_dates")


def staged_files_sql(source: str, relation: str, has_staged_at: bool = True) -> str:
    """One row per staged file of a source: (source, file_sha256, staged_at: when last staged)."""
    staged_at = "max(staged_at)" if has_staged_at else "cast(null as timestamp)"
    return (
        f"select '{source}' as source, file_sha256, {staged_at} as staged_at "
        f"from {relation} group by file_sha256"
    )


def input_fingerprint(con: duckdb.DuckDBPyConnection, sources: tuple[str, ...]) -> str | None:
    """The sources' staged files and their issues as one checksum; None when a table is missing."""
    parts = []
    for source in sources:
        files = staged_files_sql(source, STAGED_MODELS[source])
        parts.append(
            "select source || '|' || coalesce(file_sha256, '') || '|' "
            f"|| coalesce(cast(staged_at as varchar), '') as part from ({files})"
        )
    listed = ", ".join(f"'{s}'" for s in sources)
    parts.append(
        "select 'issues|' || source || '|' || count(*) || '|' "
        "|| cast(sum(hash(file_sha256, row_number, rule, outcome)) as varchar) as part "
        f"from quality.row_issues where source in ({listed}) group by source"
    )
    try:
        union = " union all ".join(parts)
        checksum = "md5(coalesce(string_agg(part, ';' order by part), ''))"
        row = con.execute(f"select {checksum} from ({union})").fetchone()
    except duckdb.CatalogException:
        return None
    return row[0]


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create pipeline_state.processed, dropping the records it replaces the first time."""
    if table_exists(con, TABLE):
        return
    for table in _FORMER_TABLES:  # one at a time: DuckDB drops one object per statement
        con.execute(f"drop table if exists {table}")
    con.execute(_DDL)


def processed_items(con: duckdb.DuckDBPyConnection, step: str) -> dict[str, str]:
    """What `step` processed: {item: fingerprint}; empty when nothing is recorded (works on a
    read-only connection too)."""
    try:
        rows = con.execute(f"select item, fingerprint from {TABLE} where step = ?", [step]).fetchall()
    except duckdb.CatalogException:  # nothing recorded yet
        return {}
    return dict(rows)


def record_processed(con: duckdb.DuckDBPyConnection, step: str, items: dict[str, str]) -> None:
    """`step` processed these items under these fingerprints (replacing what it recorded for them)."""
    ensure_table(con)
    if items:
        con.executemany(
            f"insert or replace into {TABLE} values (?, ?, ?, current_timestamp::timestamp)",
            [[step, item, fingerprint] for item, fingerprint in items.items()],
        )


def forget_processed(con: duckdb.DuckDBPyConnection, step: str, items: Iterable[str] | None = None) -> None:
    """Forget what `step` processed: these items, or all of them (None)."""
    ensure_table(con)
    if items is None:
        con.execute(f"delete from {TABLE} where step = ?", [step])
    else:
        con.execute(
            f"delete from {TABLE} where step = ? and item in (select unnest(?::varchar[]))",
            [step, list(items)],
        )


def quality_item_sql(source: str, file_sha256: str, staged_at: str) -> str:
    """The SQL expression of the quality step's item for a staged file, from three SQL expressions:
    '<source>/<file_sha256>@<staged_at>', a missing sha256 or staged_at written as ''."""
    return (
        f"{quality_file_prefix_sql(source, file_sha256)} "
        f"|| coalesce(cast(cast({staged_at} as timestamp) as varchar), '')"
    )


def quality_file_prefix_sql(source: str, file_sha256: str) -> str:
    """The start of quality_item_sql that every staging of one file shares: '<source>/<file_sha256>@'."""
    return f"{source} || '/' || coalesce({file_sha256}, '') || '@'"


def stored_fingerprint(con: duckdb.DuckDBPyConnection, consumer: str) -> str | None:
    """The fingerprint `consumer` last built its whole input from (None: nothing stored)."""
    return processed_items(con, consumer).get(WHOLE_INPUT)


def store_fingerprint(con: duckdb.DuckDBPyConnection, consumer: str, fingerprint: str | None) -> None:
    """`consumer` built from `fingerprint`; None forgets what it built from (until it succeeds)."""
    if fingerprint is None:
        forget_processed(con, consumer, [WHOLE_INPUT])
    else:
        record_processed(con, consumer, {WHOLE_INPUT: fingerprint})


def is_unchanged(con: duckdb.DuckDBPyConnection, consumer: str, fingerprint: str | None) -> bool:
    return fingerprint is not None and stored_fingerprint(con, consumer) == fingerprint


def corrections_fingerprint(settings: Settings) -> str:
    """The stewards' corrections taken into the raw lake (raw/corrections/), as one checksum."""
    taken = sorted(p.name for p in (settings.raw_dir / CORRECTIONS_FOLDER).glob("*.parquet"))
    return hashlib.sha256(repr(taken).encode()).hexdigest()[:16]
