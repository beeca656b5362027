"""What each incremental step last built from, so that a run redoes only what its new inputs touch.

A step's inputs are summed up in a fingerprint: per source, each staged file (its sha256 and when
its rows were staged) and the rule issues found on its rows. The step stores the fingerprint it
built from (pipeline_state.fingerprints) once it succeeds; the next run compares. A new citizens
snapshot, a restaged file (full refresh, correction) or a change of the rules changes it; a new
service-record extract leaves the citizens' fingerprint as it was.
"""

from __future__ import annotations

import hashlib

import duckdb

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

_DDL = """
create schema if not exists pipeline_state;
create table if not exists pipeline_state.fingerprints (
    consumer varchar primary key,
    fingerprint varchar not null,
    recorded_at timestamp not null
);
"""


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


def stored_fingerprint(con: duckdb.DuckDBPyConnection, consumer: str) -> str | None:
    try:
        row = con.execute(
            "select fingerprint from pipeline_state.fingerprints where consumer = ?", [consumer]
        ).fetchone()
    except duckdb.CatalogException:  # nothing stored yet (works on a read-only connection too)
        return None
    return row[0] if row else None


def store_fingerprint(con: duckdb.DuckDBPyConnection, consumer: str, fingerprint: str | None) -> None:
    con.execute(_DDL)
    con.execute("delete from pipeline_state.fingerprints where consumer = ?", [consumer])
    if fingerprint is not None:
        con.execute(
            "insert into pipeline_state.fingerprints values (?, ?, current_timestamp)",
            [consumer, fingerprint],
        )


def is_unchanged(con: duckdb.DuckDBPyConnection, consumer: str, fingerprint: str | None) -> bool:
    return fingerprint is not None and stored_fingerprint(con, consumer) == fingerprint


def corrections_fingerprint(settings: Settings) -> str:
    """The stewards' corrections taken into the raw lake (raw/corrections/), as one checksum."""
    taken = sorted(p.name for p in (settings.raw_dir / CORRECTIONS_FOLDER).glob("*.parquet"))
    return hashlib.sha256(repr(taken).encode()).hexdigest()[:16]
