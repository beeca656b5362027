"""One memory setting, turned into the DuckDB settings of every connection a run opens.

`WARD_MEMORY_LIMIT` (`8GB`, `6GiB`, `512MB`, or a share of the machine's RAM: `40%`; default 40%)
and `WARD_THREADS` (default: the machine's CPU count) are read by ward.settings like every
variable; this module turns them into DuckDB's settings:

- `memory_limit`: the bytes DuckDB's buffer manager may hold. Above it DuckDB writes intermediate
  results (sorts, joins, aggregates) to `temp_directory` and goes on; what cannot be spilled fails
  with an OutOfMemoryException, which `connect_build_db` turns into a message naming
  WARD_MEMORY_LIMIT. The process is never left to grow until the kernel kills it.
- `threads`: DuckDB's worker threads (each holds its own buffers: fewer threads, less memory).
- `temp_directory`: `build/ward.duckdb.tmp/` under the data root, DuckDB's own default for the
  build file, named so that every connection reports it (the build folder is owner-only: spilled
  pages hold personal data). It is not re-set once set: DuckDB refuses to SET temp_directory again
  (even to the same folder) once it has spilled there, and dbt-duckdb SETs its `settings:` on every
  cursor, so dbt's profile leaves it at the default, which is this folder.
- dbt only: `preserve_insertion_order = false`. Nothing built by dbt depends on the physical order of
  a table (the exports sort with `order by all`), and keeping it costs memory on large inserts.

Two places apply them: dbt, through `profiles.yml` (`settings:` read with env_var() from
Settings.dbt_env(); temp_directory is DuckDB's default there), and `connect_build_db` for the
connections the pipeline opens on the build database itself (ingest checks, quality, identity,
history, publish). The settings are SET after
connecting, never passed as `config=`: DuckDB refuses a second connection to an open database file
with another configuration, and memory_limit, threads and temp_directory are per database instance
anyway.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ward.settings import ENV_MEMORY_LIMIT, ENV_THREADS

if TYPE_CHECKING:
    from ward.settings import Settings

DEFAULT_MEMORY_SHARE = 0.40
MIN_MEMORY_BYTES = 128 * 1024**2  # below this DuckDB cannot even hold a few row groups
# The variables dbt's profile reads (dbt_project/profiles.yml), derived from the two above.
DBT_ENV_MEMORY_LIMIT = "WARD_DUCKDB_MEMORY_LIMIT"
DBT_ENV_THREADS = "WARD_DUCKDB_THREADS"

_UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
    "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4,
}  # fmt: skip
_AMOUNT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*|%)\s*$")


class MemoryLimitError(ValueError):
    """WARD_MEMORY_LIMIT or WARD_THREADS holds a value the platform refuses."""


class OutOfMemory(RuntimeError):
    """DuckDB needed more memory than WARD_MEMORY_LIMIT allows and could not spill it to disk."""


def machine_memory_bytes() -> int:
    """The machine's physical RAM (no dependency: os.sysconf, as on every Linux and macOS)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_limit_bytes(text: str | None, total: int | None = None) -> int:
    """`40%`, `8GB` (10^9), `8GiB` (2^30), `8G`, `512 MB`; missing or blank: 40% of the RAM."""
    total = machine_memory_bytes() if total is None else total
    text = (text or "").strip()
    if not text:
        return int(total * DEFAULT_MEMORY_SHARE)
    match = _AMOUNT.match(text)
    if match is None or (match[2] != "%" and match[2].lower() not in _UNITS):
        raise MemoryLimitError(
            f"{ENV_MEMORY_LIMIT} is refused: {text!r} is no amount of memory "
            "(e.g. 8GB, 6GiB, 512MB, or a share of the machine's RAM such as 40%)."
        )
    number, unit = float(match[1]), match[2]
    if unit == "%":
        if not 0 < number <= 100:
            raise MemoryLimitError(
                f"{ENV_MEMORY_LIMIT} is refused: {text!r} is not a share between 0% and 100%."
            )
        limit = int(total * number / 100)
    else:
        limit = int(number * _UNITS[unit.lower()])
    if limit < MIN_MEMORY_BYTES:
        raise MemoryLimitError(
            f"{ENV_MEMORY_LIMIT} is refused: {text!r} is {limit // 1024**2} MiB, below the "
            f"{MIN_MEMORY_BYTES // 1024**2} MiB a build needs at the very least."
        )
    return limit


def thread_count(value: int | str | None) -> int:
    """WARD_THREADS as a number ≥ 1; missing: the machine's CPU count."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return os.cpu_count() or 1
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise MemoryLimitError(f"{ENV_THREADS} is refused: {value!r} is not a whole number of threads ≥ 1.")
    return threads


def duckdb_settings(
    memory_limit: str | None,
    threads: int | str | None,
    temp_directory: Path,
    *,
    for_dbt: bool = False,
    total_memory: int | None = None,
) -> dict[str, str]:
    """The DuckDB settings (name -> value as SET takes it) for WARD_MEMORY_LIMIT / WARD_THREADS."""
    settings = {
        "memory_limit": f"{memory_limit_bytes(memory_limit, total_memory) // 1024**2}MiB",
        "threads": str(thread_count(threads)),
        "temp_directory": str(temp_directory),
    }
    if for_dbt:
        settings["preserve_insertion_order"] = "false"
    return settings


def settings_for(settings: Settings, *, for_dbt: bool = False) -> dict[str, str]:
    return duckdb_settings(settings.memory_limit, settings.threads, settings.duckdb_temp_dir, for_dbt=for_dbt)


def side_settings(settings: Settings, name: str) -> dict[str, str]:
    """The memory settings of an in-memory DuckDB a step opens beside the build database (splink's
    linkage): the same limit and threads (each DuckDB instance holds its own budget), and its own
    temp folder `<build db>.tmp/<name>/` in the owner-only build folder, never DuckDB's default
    `.tmp` in the working directory (spilled pages hold personal data)."""
    values = settings_for(settings)
    values["temp_directory"] = str(settings.duckdb_temp_dir / name)
    return values


def dbt_env(settings: Settings) -> dict[str, str]:
    """The variables profiles.yml reads into dbt-duckdb's `settings:`."""
    values = settings_for(settings, for_dbt=True)
    return {
        DBT_ENV_MEMORY_LIMIT: values["memory_limit"],
        DBT_ENV_THREADS: values["threads"],
    }


def configure(con: duckdb.DuckDBPyConnection, settings: Settings) -> duckdb.DuckDBPyConnection:
    """Apply the memory settings to an open connection (to its whole database instance).

    temp_directory only when it differs: once DuckDB has spilled there, setting it again fails.
    """
    for name, value in settings_for(settings).items():
        if (
            name == "temp_directory"
            and con.execute("select current_setting('temp_directory')").fetchall()[0][0] == value
        ):
            continue
        con.execute(f"set {name} = '{value}'")
    return con


def out_of_memory_message(settings: Settings, error: BaseException | str) -> str:
    limit = settings_for(settings)["memory_limit"]
    given = settings.memory_limit or f"unset: {DEFAULT_MEMORY_SHARE:.0%} of the machine's RAM"
    return (
        f"DuckDB ran out of memory under {ENV_MEMORY_LIMIT} ({given} = {limit}, {ENV_THREADS}="
        f"{thread_count(settings.threads)}) and could not spill enough to {settings.duckdb_temp_dir}. "
        f"Raise {ENV_MEMORY_LIMIT} (e.g. 60% or 12GB), lower {ENV_THREADS}, or free disk space there, "
        f"then run again. DuckDB said: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
    )


@contextlib.contextmanager
def explain_out_of_memory(settings: Settings) -> Iterator[None]:
    """DuckDB's OutOfMemoryException (or dbt's report of one) as OutOfMemory naming WARD_MEMORY_LIMIT."""
    try:
        yield
    except duckdb.OutOfMemoryException as error:
        raise OutOfMemory(out_of_memory_message(settings, error)) from error
    except Exception as error:
        if "Out of Memory Error" not in str(error):
            raise
        raise OutOfMemory(out_of_memory_message(settings, error)) from error


@contextlib.contextmanager
def connect_build_db(
    settings: Settings | None, database: Path | str | None = None, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the build database (or `database`) under the run's memory settings.

    `with connect_build_db(settings) as con:` stands where `with duckdb.connect(path) as con:` stood.
    Without settings (a caller outside a run, e.g. a test), a plain connection to `database`.
    """
    if settings is None:
        with duckdb.connect(str(database), read_only=read_only) as con:
            yield con
        return
    path = settings.build_db_path if database is None else database
    with explain_out_of_memory(settings), duckdb.connect(str(path), read_only=read_only) as con:
        configure(con, settings)
        yield con
