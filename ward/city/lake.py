"""The city lake: each city mart as Parquet partitioned by `ward_code`, for engines other than DuckDB.

    <city>/city/lake/<mart>/ward_code=<code>/city-<build>-<i>.parquet

Hive-style partitions (DuckDB's `COPY … (PARTITION_BY (ward_code))`), which Spark, Trino/Hive and
DuckDB discover as a `ward_code` column (docs/scale.md, 3.1). The rows are city.duckdb's, written from
the same connection while the city file is built: a ward with no publication has no rows, so no
partition; a mart no ward published has no folder. `ward_code` is in the folder names only (the Hive
convention), and keeps its leading zeros as text (`ward_code=00004`): read it as a string.

The marts are aggregates and the delivery ledger, the same tables the shared tier publishes
(ward/publish/personal_data.py keeps every column of theirs), but like city.duckdb the lake is
owner-only: folders 0700, files 0600.

Replaced whole: written into `.lake.tmp-<build>/` beside `lake/`, then `lake/` is renamed aside and the
new folder renamed into its place, and the old one removed. A reader never sees a mix of two builds:
- between the two renames (microseconds) `lake/` does not exist: a reader starting then gets "not
  found" and can retry;
- a reader that listed the old files and opens them after the swap finds them gone, never a new file
  under an old name (each build's file names carry its own build stamp);
- a file already open is read to its end (removing it frees it only when it is closed).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ward.ingest.permissions import make_private

LAKE_NAME = "lake"
_STAGED = f".{LAKE_NAME}.tmp-"
_REPLACED = f".{LAKE_NAME}.old-"


def build_stamp() -> str:
    """A name part unique to this build: UTC time and process id."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}-{os.getpid()}"


def stage_lake(con: duckdb.DuckDBPyConnection, lake: Path, marts: tuple[str, ...]) -> Path:
    """Write `marts.<mart>` of `con` for each mart under a new folder beside `lake`; returns it."""
    stamp = build_stamp()
    staged = lake.with_name(f"{_STAGED}{stamp}")
    staged.mkdir(mode=0o700)
    try:
        for mart in marts:
            con.execute(
                f"copy marts.{mart} to '{staged / mart}' (format parquet, partition_by (ward_code), "
                f"filename_pattern 'city-{stamp}-{{i}}', compression zstd)"
            )
        for folder, _, files in os.walk(staged):  # DuckDB writes with the process's umask
            make_private(Path(folder))
            for name in files:
                make_private(Path(folder) / name)
    except BaseException:
        discard(staged)
        raise
    return staged


def commit_lake(staged: Path, lake: Path) -> None:
    """Put the staged folder in the place of `lake` (see the module's docstring for the swap)."""
    replaced = None
    if lake.exists():
        replaced = lake.with_name(f"{_REPLACED}{staged.name.removeprefix(_STAGED)}")
        os.replace(lake, replaced)
    os.replace(staged, lake)
    for leftover in lake.parent.glob(f"{_REPLACED}*"):  # the one replaced, and any a crash left
        discard(leftover)


def discard(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(path)
