"""Publish the build database as the analysts' warehouse, whole, at the end of a run.

Analysts (`ward sql`, any DuckDB client) open data/warehouse/ward.duckdb read-only. The pipeline
never writes that file in place: it checkpoints its own build file, copies it beside the warehouse
and renames it over, so a reader never meets a lock or a half-built table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ward.publish.atomic import replace_file


def checkpoint(build_db: Path) -> None:
    """Write everything the build database holds in its write-ahead log into the file itself."""
    with duckdb.connect(str(build_db)) as con:
        con.execute("checkpoint")


def publish_warehouse(build_db: Path, warehouse: Path, *, checkpointed: bool = False) -> Path:
    """checkpointed=True: the caller has checkpointed and may be reading the file meanwhile."""
    if not checkpointed:
        checkpoint(build_db)
    replace_file(build_db, warehouse)
    return warehouse
