"""Guards around the build database: one run at a time, and a damaged database rebuilt, not fatal.

- `run_lock`: `ward run` holds an exclusive lock on `build/run.lock` (fcntl.flock) for the whole run,
  and so does a run launched from the UI or by the sensor (orchestration/resources.py: the `ward`
  resource holds it while the run's steps execute, waiting for a `ward run` to end first).
  A second `ward run` refuses at once (exit 3: "another run is in progress since <time> (pid N)"),
  or with `--wait` waits for the first to end. The kernel drops a flock when its process ends, even
  on a crash or SIGKILL, so a lock is never left behind; the file itself stays (it only records who
  holds it).
- `recover_damaged_build_database`: the build database (`build/ward.duckdb`) holds nothing that
  cannot be rebuilt from the raw lake (`raw/<source>/*.parquet`, `raw/deliveries.parquet`,
  `raw/corrections/`). One that DuckDB cannot open (emptied, overwritten, truncated) is moved aside
  as `build/ward.duckdb.damaged-<UTC timestamp>` (kept for a post-mortem, owner-only like the
  database) and the run builds a new one whole, as `ward run --full-refresh` does.

A database another process holds is not damaged: `BuildDatabaseBusy`, with DuckDB's own message
(which names the process), and nothing is moved.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ward.settings import Settings

LOCK_NAME = "run.lock"
EXIT_RUN_IN_PROGRESS = 3
# DuckDB's file header: a main header and two database headers of 4 KiB, then the blocks.
_HEADER_BYTES = 3 * 4096
# What DuckDB says when another process holds the file (not damage).
_LOCK_MARKERS = ("Could not set lock on file", "Conflicting lock is held")


# The run locks this process holds (resolved paths): a Dagster run inside `ward run` finds the lock
# already its own (flock conflicts between two descriptors of one process too).
_HELD_HERE: set[str] = set()


class RunInProgress(RuntimeError):
    """Another `ward run` holds the run lock."""


class BuildDatabaseBusy(RuntimeError):
    """Another process (not a `ward run`: a DuckDB shell, a Dagster run of `ward ui`) holds the
    build database."""


def lock_path(settings: Settings) -> Path:
    return settings.build_db_path.parent / LOCK_NAME


def held_here(settings: Settings) -> bool:
    """Whether this process holds the data root's run lock (a run inside `ward run`)."""
    return str(lock_path(settings).resolve()) in _HELD_HERE


def _holder(fd: int) -> str:
    """The holder as "since <time> (pid N)", from what it wrote into the lock file."""
    try:
        pid, since = os.pread(fd, 200, 0).decode("utf-8", "replace").split()[:2]
    except ValueError:  # being written, or from before: no figures
        return "since an unknown time (pid unknown)"
    return f"since {since} (pid {pid})"


@contextlib.contextmanager
def run_lock(
    settings: Settings, *, wait: bool = False, on_wait: Callable[[str], None] = lambda message: None
) -> Iterator[None]:
    """Hold `build/run.lock` for the block; RunInProgress when another run holds it (wait=False).

    wait=True: call on_wait(message) once, then block until the other run ends."""
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    held = str(path.resolve())
    acquired = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = f"another run is in progress {_holder(fd)}"
            if not wait:
                raise RunInProgress(message) from None
            on_wait(message)
            fcntl.flock(fd, fcntl.LOCK_EX)
        since = datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {since}\n".encode(), 0)
        _HELD_HERE.add(held)
        acquired = True
        yield
    finally:
        if acquired:
            _HELD_HERE.discard(held)
        os.close(fd)  # releases the lock (and so does the end of the process, however it ends)


@dataclass(frozen=True)
class Damage:
    cause: str  # what is wrong, in one line (DuckDB's words)


def inspect_build_database(path: Path) -> Damage | None:
    """Damage of the build database, or None (also when there is none yet).

    Opened read-write as the steps open it; damaged when DuckDB cannot open it or read its catalog,
    when it is empty (0 bytes: DuckDB refuses it), or when the file is shorter than the blocks in
    use its header counts, or ends in part of a block (truncated). Raises BuildDatabaseBusy when
    another process holds it.
    Damage inside a table's blocks that leaves the header, the catalog and the size intact is only
    found when a step reads those blocks (the step's failure then says so)."""
    if not path.exists():
        return None
    size = path.stat().st_size
    if size == 0:
        return Damage("the file is empty (0 bytes)")
    try:
        with duckdb.connect(str(path)) as con:
            con.execute("select count(*) from duckdb_tables()").fetchall()
            used, block_size = con.execute(
                "select used_blocks, block_size from pragma_database_size() "
                "where database_name = current_database()"
            ).fetchall()[0]
    except duckdb.Error as error:
        text = " ".join(str(error).split())
        if any(marker in text for marker in _LOCK_MARKERS):
            raise BuildDatabaseBusy(text) from error
        return Damage(f"{type(error).__name__}: {text}")
    # A checkpoint cuts free blocks off the end of the file, so a healthy file may be shorter than
    # all the blocks DuckDB counts (total_blocks); never shorter than the blocks in use, and always
    # whole blocks after the header.
    expected = _HEADER_BYTES + used * block_size
    cut = size < expected or (size - _HEADER_BYTES) % block_size
    if not Path(f"{path}.wal").exists() and cut:
        return Damage(
            f"the file is truncated ({size:,} bytes; its header counts {expected:,} in use, "
            f"in blocks of {block_size:,})"
        )
    return None


def recover_damaged_build_database(settings: Settings, now: datetime | None = None) -> str | None:
    """Move a damaged build database aside; the message to show (None: not damaged).

    The run that called this builds the database anew from the raw lake (a full refresh)."""
    path = settings.build_db_path
    damage = inspect_build_database(path)
    if damage is None:
        return None
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    path.rename(aside)
    wal = Path(f"{path}.wal")
    if wal.exists():
        wal.rename(Path(f"{aside}.wal"))
    return (
        f"The build database {path} was damaged ({damage.cause}): moved aside as {aside.name}; "
        "this run rebuilds it whole from the raw lake (raw/), as `ward run --full-refresh` does."
    )
