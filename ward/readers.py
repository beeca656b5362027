"""Connections for the readers of the published warehouse: they can query it and do nothing else.

A read-only DuckDB connection alone still lets a statement attach another database file for
writing (the build database, say), COPY or EXPORT to any path, read any file (read_csv('/etc/passwd')),
install extensions and change settings. A reader connection is opened read-only with external access
disabled and its configuration locked, both set when it connects, so no statement can undo them:
queries on the warehouse's tables work, every statement touching another file or a setting fails
with a permission or "configuration has been locked" error.

The same from any DuckDB ≥ 2.0 client: open the file read-only, then run
`SET enable_external_access = false; SET lock_configuration = true;` before anything else.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ward.settings import Settings

READER_CONFIG = {"enable_external_access": False, "lock_configuration": True}


def connect_reader(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The published warehouse (settings.warehouse_path), for reading only."""
    return connect_read_only(settings.warehouse_path)


def connect_read_only(database: Path) -> duckdb.DuckDBPyConnection:
    """Any ward database file, for reading only (the warehouse: use connect_reader)."""
    if not Path(database).exists():
        raise FileNotFoundError(database)  # DuckDB would say "cannot open" with no path in read-only
    return duckdb.connect(str(database), read_only=True, config=dict(READER_CONFIG))
