"""The freshness thresholds (ward.settings, from the environment) as a table the scorecard reads.

The same thresholds drive the Dagster freshness checks (orchestration/freshness.py); writing them
into the build database lets mart_data_quality score `song/latest_extract_within_threshold`
without a second copy of the numbers in dbt.
"""

from __future__ import annotations

import duckdb


def record_freshness_thresholds(
    con: duckdb.DuckDBPyConnection, freshness_days: tuple[tuple[str, int], ...]
) -> None:
    con.execute("create schema if not exists quality")
    con.execute(
        "create or replace table quality.freshness_thresholds "
        "(source varchar not null, max_days integer not null)"
    )
    if freshness_days:
        con.executemany(
            "insert into quality.freshness_thresholds values (?, ?)", [list(f) for f in freshness_days]
        )
