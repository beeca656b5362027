"""Publish the build database as the analysts' warehouse, whole, at the end of a run.

Analysts (`ward sql`, any DuckDB client) open data/warehouse/ward.duckdb read-only. The pipeline
never writes that file in place: it checkpoints its own build file, copies it beside the warehouse
and renames it over, so a reader never meets a lock or a half-built table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ward.ingest.permissions import make_private
from ward.publish.atomic import replace_file


def checkpoint(build_db: Path, readers_group: str | None = None) -> None:
    """Write everything the build database holds in its write-ahead log into the file itself.

    dbt created the file with the process's umask: it holds personal data, so it is made 0600 (0640
    with the readers group); its folder is made owner-only by ingest, before dbt runs.
    """
    with duckdb.connect(str(build_db)) as con:
        con.execute("checkpoint")
    for path in (build_db, build_db.with_name(f"{build_db.name}.wal")):
        if path.exists():
            make_private(path, readers_group)


def publish_warehouse(
    build_db: Path, warehouse: Path, *, checkpointed: bool = False, readers_group: str | None = None
) -> Path:
    """checkpointed=True: the caller has checkpointed and may be reading the file meanwhile.

    The warehouse is 0600 in a 0700 folder (0640 / 0750 and owned by `readers_group`,
    `Settings.readers_group`, so the analysts' accounts can open it)."""
    if not checkpointed:
        checkpoint(build_db, readers_group)
    replace_file(build_db, warehouse, readers_group)
    return warehouse
