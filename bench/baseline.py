"""The bare-DuckDB baseline: the same reads and writes as the pipeline, with no work in between.

It reads every row the pipeline ingested (the raw lake Parquet, i.e. the delivered cells), writes
them into a fresh DuckDB file, and writes the same number of rows the pipeline exported back out as
Parquet. The pipeline's time over this is what cleaning, validating, modelling and orchestration cost.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from ward.settings import SOURCES


def run_baseline(raw_dir: Path, work_dir: Path) -> dict[str, float]:
    work_dir.mkdir(parents=True, exist_ok=True)
    db = work_dir / "baseline.duckdb"
    db.unlink(missing_ok=True)
    timings: dict[str, float] = {}
    with duckdb.connect(str(db)) as con:
        started = time.perf_counter()
        for source in SOURCES:
            glob = str(raw_dir / source / "*.parquet")
            con.execute(
                f"create table {source} as select * from read_parquet('{glob}', union_by_name = true)"
            )
        timings["read_into_duckdb"] = time.perf_counter() - started
        started = time.perf_counter()
        for source in SOURCES:
            con.execute(f"copy {source} to '{work_dir / source}.parquet' (format parquet, compression zstd)")
        timings["write_parquet"] = time.perf_counter() - started
    timings["total"] = sum(timings.values())
    return timings
