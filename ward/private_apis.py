"""The ward's only use of other packages' private internals: each patch, in this one module.

Each exists because no public API does the same and the gain was measured (docs/architecture.md,
"Private APIs: one adapter"). `PATCHES` names every private name used here and the versions it was
verified against; tests/unit/test_private_apis.py fails on an upgrade of any of these packages,
or when a name used here is gone or changed shape, and says which patch to re-check.

1. Event log kept open (dagster 1.13.27): `PooledSqliteEventLogStorage` subclasses Dagster's
   SqliteEventLogStorage (`dagster._core.storage.event_log.sqlite.sqlite_event_log`) and overrides
   its `_connect`. Dagster's storage builds an engine, connects and closes again for every statement
   (≈ 2.8 times an event, 7.6 ms an event): 3 s of an 11 s daily run at 1M residents (cProfile of
   bench/incremental.py's daily run). Here each database keeps its engine and one pooled connection;
   tables, queries and files stay Dagster's. It also commits without an fsync each (SQLite's
   synchronous=NORMAL for a write-ahead log), checkpoints a run's log into its file at most every
   CHECKPOINT_DELAY, and remembers the tables and data migrations it found (Dagster checks them
   again, with a new engine each, 187 times a daily run): together ≈ 2 s less of event storage in a
   daily run (docs/architecture.md). The instance's dagster.yaml names this class
   (ward/cli/instance.py). Without it: Dagster's own SqliteEventLogStorage (`sqlite` storage).
2. dbt in this process (dagster-dbt 0.29.27, dbt-core 1.11.16, dbt-duckdb 1.11.1):
   `dbt_in_this_process` swaps the `subprocess` module that
   `dagster_dbt.core.dbt_cli_invocation` starts dbt with for `_dbt_process`: the next invocation of
   the run's warm dbt worker (ward.dbt_worker, started by `ward run` with its process), else
   `InProcessDbt` (dbt's public dbtRunner in a thread). Both write the JSON log lines a dbt process
   would. A new dbt process costs ≈ 2 s before any work (interpreter, imports, adapter), twice in
   every run; the worker has paid it while the run started, and a second in-process invocation
   reuses the first's imports (≈ 0.3 s). Without it: dagster-dbt's dbt subprocess.
3. No `dbt --version`, no adapter (dagster-dbt 0.29.27): `DbtSubprocessesSkipped` overrides
   DbtCliResource's `_cli_version` (a `dbt --version` subprocess in each step that calls dbt, ≈ 1.3 s
   each, a fifth of a daily run's dbt time; the installed dbt-core's version instead) and
   `_initialize_dbt_core_adapter` (≈ 0.3–1 s a call; the adapter only serves column and row-count
   metadata, which the ward does not fetch). Without it: DbtCliResource as it is.
4. GX keeps its DuckDB connection (great-expectations 1.24.1): duckdb is added to
   `_PERSISTED_CONNECTION_DIALECTS` of `great_expectations.execution_engine.sqlalchemy_execution_engine`.
   GX reads a query's rows after closing its connection, and SQLAlchemy's rollback on close drops a
   DuckDB result: every GX count fails ("'NoneType' object is not subscriptable"). Neither the
   datasource's create_engine `kwargs` (StaticPool, pool_reset_on_return=None) nor AUTOCOMMIT
   (duckdb_engine does not support it) avoid that rollback. A correctness patch, not a speed one:
   without it the ward's SQL rules (ward/quality/evaluate.py) stand alone, without GX's Data Docs.

`release_duckdb` (closing the DuckDB file dbt-duckdb keeps open for the process's lifetime) uses
dbt-duckdb's public classmethods `env()` and `close_all_connections()`.

Packages are imported inside functions: importing this module costs nothing (the GX worker process
imports it and must not import Dagster).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

# ---------------------------------------------------------------------------------------------
# What each patch uses, checked by tests/unit/test_private_apis.py


@dataclass(frozen=True)
class PrivateUse:
    """One name of another package's internals this module relies on.

    `target` is "module:attribute.path". `parameters`: the callable's parameter names as this module
    calls or overrides it (None: not checked). `mentions`: what its source must still contain (the
    hook the patch relies on).
    """

    target: str
    parameters: tuple[str, ...] | None = None
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Patch:
    name: str
    verified: Mapping[str, str]  # distribution → the version this patch was verified against
    uses: tuple[PrivateUse, ...]


_SQLITE_EVENT_LOG = "dagster._core.storage.event_log.sqlite.sqlite_event_log"
_STORAGE = f"{_SQLITE_EVENT_LOG}:SqliteEventLogStorage"
_DBT_RESOURCE = "dagster_dbt.core.resource:DbtCliResource"
_DBT_INVOCATION = "dagster_dbt.core.dbt_cli_invocation"
_GX_ENGINE = "great_expectations.execution_engine.sqlalchemy_execution_engine"

PATCHES = (
    Patch(
        name="event log kept open (PooledSqliteEventLogStorage)",
        verified={"dagster": "1.13.27"},
        uses=(
            PrivateUse(
                f"{_STORAGE}.__init__",
                ("self", "base_dir", "inst_data"),
                ("self._initialized_dbs", "self._db_lock"),
            ),
            PrivateUse(
                f"{_STORAGE}._connect",
                ("self", "shard"),
                ("self._db_lock", "self._initialized_dbs", "self._initdb(engine)", "conn.begin()"),
            ),
            PrivateUse(f"{_STORAGE}._initdb", ("self", "engine", "for_index_shard")),
            PrivateUse(f"{_STORAGE}.run_connection", mentions=("self._connect(",)),
            PrivateUse(f"{_STORAGE}.index_connection", mentions=("self._connect(",)),
            PrivateUse(f"{_STORAGE}.conn_string_for_shard", ("self", "shard_name")),
            PrivateUse(f"{_STORAGE}.has_table", ("self", "table_name")),
            PrivateUse(f"{_STORAGE}.has_secondary_index", ("self", "name")),
            PrivateUse(f"{_STORAGE}.wipe", ("self",)),
            PrivateUse(f"{_STORAGE}.dispose", ("self",)),
            PrivateUse(f"{_SQLITE_EVENT_LOG}:INDEX_SHARD_NAME"),
            PrivateUse(f"{_SQLITE_EVENT_LOG}:SQLITE_BUSY_TIMEOUT_SECONDS"),
        ),
    ),
    Patch(
        name="dbt in the run's worker or this process (dbt_in_this_process, InProcessDbt, run_dbt)",
        verified={"dagster-dbt": "0.29.27", "dbt-core": "1.11.16", "dbt-duckdb": "1.11.1"},
        uses=(
            PrivateUse(f"{_DBT_INVOCATION}:subprocess"),
            PrivateUse(
                f"{_DBT_INVOCATION}:DbtCliInvocation.run",
                mentions=("subprocess.Popen(", "subprocess.PIPE", "subprocess.STDOUT", "env=env", "cwd="),
            ),
            PrivateUse("dbt.cli.main:dbtRunner.invoke", ("self", "args", "kwargs")),
            PrivateUse("dbt_common.events.functions:msg_to_dict", ("msg",)),
            PrivateUse("dbt.adapters.duckdb.connections:DuckDBConnectionManager.env", (), ("cls._ENV",)),
            PrivateUse(
                "dbt.adapters.duckdb.connections:DuckDBConnectionManager.close_all_connections",
                (),
                ("cls._ENV = None",),
            ),
        ),
    ),
    Patch(
        name="no `dbt --version`, no adapter (DbtSubprocessesSkipped)",
        verified={"dagster-dbt": "0.29.27", "dbt-core": "1.11.16"},
        uses=(
            PrivateUse(f"{_DBT_RESOURCE}._initialize_dbt_core_adapter", ("self", "args")),
            PrivateUse(f"{_DBT_RESOURCE}._cli_version", ("self",)),
            PrivateUse(
                f"{_DBT_RESOURCE}.cli",
                mentions=("self._cli_version", "self._initialize_dbt_core_adapter(", "DbtCliInvocation.run("),
            ),
            PrivateUse("dbt.version:__version__"),
        ),
    ),
    Patch(
        name="GX keeps its DuckDB connection (keep_gx_duckdb_connections_open)",
        verified={"great-expectations": "1.24.1"},
        uses=(
            PrivateUse(f"{_GX_ENGINE}:_PERSISTED_CONNECTION_DIALECTS"),
            PrivateUse(
                f"{_GX_ENGINE}:SqlAlchemyExecutionEngine.get_connection",
                ("self",),
                ("self.dialect_name in _PERSISTED_CONNECTION_DIALECTS",),
            ),
            PrivateUse(
                f"{_GX_ENGINE}:_dialect_requires_persisted_connection",
                mentions=("dialect_name.value", "_PERSISTED_CONNECTION_DIALECTS"),
            ),
        ),
    ),
)


# ---------------------------------------------------------------------------------------------
# 1. The event log kept open

# The webserver reads many runs' databases: the least recently used beyond this many are closed.
OPEN_DATABASES = 8
# A run's live view (which watches `<run_id>.db`) hears its events at most this long after they
# are stored: a run's log is checkpointed into its file at most this often.
CHECKPOINT_DELAY = 0.25


def _no_sync_per_commit(dbapi_connection, _record) -> None:
    """SQLite's own advice for a write-ahead log: synchronous=NORMAL syncs at checkpoints, not at
    each commit. A crash of the process loses nothing; a power cut may lose the last events of a run
    in progress, which is then failed anyway. (Dagster's default is FULL: an fsync per event.)"""
    if dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")


@cache
def _pooled_sqlite_event_log_storage() -> type:
    import sqlalchemy as sa
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
        INDEX_SHARD_NAME,
        SQLITE_BUSY_TIMEOUT_SECONDS,
        SqliteEventLogStorage,
    )

    class PooledSqliteEventLogStorage(SqliteEventLogStorage):
        """Dagster's SQLite event log, each database's connection kept open between statements.

        Closing the last connection also checkpointed the run's write-ahead log into `<run_id>.db`,
        and the UI's live view of a run watches that file: after each transaction on a run's
        database its log is checkpointed here too, so the live view follows the run as before.
        """

        def __init__(self, base_dir: str, inst_data=None) -> None:
            # guarded by Dagster's _db_lock:
            self._engines: OrderedDict[str, sa.Engine] = OrderedDict()
            self._checkpointed_at: dict[str, float] = {}
            self._checkpoints_due: dict[str, threading.Timer] = {}
            self._tables_seen: set[str] = set()
            self._indexes_seen: set[str] = set()
            super().__init__(base_dir, inst_data)

        @classmethod
        def from_config_value(cls, inst_data, config_value):
            return cls(inst_data=inst_data, **config_value)

        def _engine(self, shard: str) -> sa.Engine:
            """The shard's engine, opened if need be; the caller holds _db_lock."""
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = sa.create_engine(
                    self.conn_string_for_shard(shard),
                    pool_size=1,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                )
                sa.event.listen(engine, "connect", _no_sync_per_commit)
            self._engines[shard] = engine  # the most recently used last
            while len(self._engines) > OPEN_DATABASES:
                self._engines.popitem(last=False)[1].dispose()
            return engine

        @contextlib.contextmanager
        def _connect(self, shard: str) -> Iterator[sa.Connection]:
            with self._db_lock:
                engine = self._engine(shard)
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                with engine.connect() as conn, conn.begin():
                    yield conn
                if shard != INDEX_SHARD_NAME:
                    self._checkpoint_soon(shard)

        def _checkpoint_soon(self, shard: str) -> None:
            """Checkpoint the run's log into `<run_id>.db` now, or CHECKPOINT_DELAY after the last
            checkpoint if that was under CHECKPOINT_DELAY ago (events come in bursts of dozens: one
            checkpoint per transaction was a third of the time spent storing events); the caller
            holds _db_lock."""
            waited = time.monotonic() - self._checkpointed_at.get(shard, 0.0)
            if waited >= CHECKPOINT_DELAY:
                self._checkpoint(shard)
            elif shard not in self._checkpoints_due:
                timer = threading.Timer(CHECKPOINT_DELAY - waited, self._deferred_checkpoint, (shard,))
                timer.daemon = True
                self._checkpoints_due[shard] = timer
                timer.start()

        def _checkpoint(self, shard: str) -> None:
            engine = self._engines.get(shard)  # a closed engine checkpointed as it closed
            if engine is not None:
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            self._checkpointed_at[shard] = time.monotonic()

        def _deferred_checkpoint(self, shard: str) -> None:
            with self._db_lock:
                if self._checkpoints_due.pop(shard, None) is not None:
                    self._checkpoint(shard)

        def has_table(self, table_name: str) -> bool:
            # Dagster opens a new engine for each check, 135 times in a daily run; a table stays.
            if table_name not in self._tables_seen and super().has_table(table_name):
                self._tables_seen.add(table_name)
            return table_name in self._tables_seen

        def has_secondary_index(self, name: str) -> bool:
            # A completed data migration stays completed (52 queries in a daily run).
            if name not in self._indexes_seen and super().has_secondary_index(name):
                self._indexes_seen.add(name)
            return name in self._indexes_seen

        def _dispose_engines(self) -> None:
            with self._db_lock:
                for timer in self._checkpoints_due.values():
                    timer.cancel()  # closing the engine's connection checkpoints instead
                self._checkpoints_due.clear()
                for engine in self._engines.values():
                    engine.dispose()
                self._engines.clear()

        def wipe(self) -> None:
            self._dispose_engines()  # the run databases' files are deleted
            self._tables_seen.clear()
            self._indexes_seen.clear()
            super().wipe()

        def dispose(self) -> None:
            self._dispose_engines()
            super().dispose()

    PooledSqliteEventLogStorage.__module__ = __name__
    PooledSqliteEventLogStorage.__qualname__ = "PooledSqliteEventLogStorage"
    return PooledSqliteEventLogStorage


def __getattr__(name: str) -> Any:
    """`PooledSqliteEventLogStorage` is defined on first use, importing Dagster only then (the
    instance's dagster.yaml names it as `ward.private_apis.PooledSqliteEventLogStorage`)."""
    if name == "PooledSqliteEventLogStorage":
        return _pooled_sqlite_event_log_storage()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------------------
# 2. dbt in this process, behind the interface dagster-dbt gives a dbt subprocess
#
# dagster-dbt turns a dbt process's JSON log lines into asset events. `InProcessDbt` stands in for
# that process (`subprocess.Popen`: args, stdout, wait, returncode): dbtRunner runs in a thread and
# its events are written as the same JSON lines to a pipe. Everything else (selection from the
# Dagster context, target paths, events, errors) stays dagster-dbt's own code.

# dbt reads these from the environment dagster-dbt gives its subprocess; the rest is os.environ.
_DBT_ENV_PREFIXES = ("DBT_", "DAGSTER_DBT_")
LOST = 2  # the return code of a dbt process that crashed
_DBT_PATH_VARIABLES = ("DBT_TARGET_PATH", "DBT_LOG_PATH")


class InProcessDbt:
    """A `subprocess.Popen` look-alike for one dbt invocation, run with dbtRunner in a thread."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | os.PathLike | None = None,
        **_: object,
    ) -> None:
        self.args = list(args)
        self.returncode: int | None = None
        read_fd, write_fd = os.pipe()
        self.stdout = os.fdopen(read_fd, "rb")
        overrides = {k: v for k, v in env.items() if k.startswith(_DBT_ENV_PREFIXES)}
        # The subprocess ran in `cwd` (the project); this thread cannot change directory, so the
        # paths dagster-dbt gives relative to it are made absolute.
        for name in _DBT_PATH_VARIABLES:
            if name in overrides and cwd is not None:
                overrides[name] = os.path.join(cwd, overrides[name])
        overrides.update(_log_levels(env))
        self._thread = threading.Thread(
            target=self._invoke, args=(self.args[1:], overrides, write_fd), name="dbt", daemon=True
        )
        self._thread.start()

    def _invoke(self, dbt_args: list[str], overrides: dict[str, str], write_fd: int) -> None:
        with os.fdopen(write_fd, "wb") as out, _environment(overrides):
            self.returncode = run_dbt(dbt_args, out)

    def wait(self, timeout: float | None = None) -> int:
        self._thread.join(timeout)
        return self.returncode if self.returncode is not None else LOST

    def poll(self) -> int | None:
        return None if self._thread.is_alive() else self.wait()

    def send_signal(self, _signal: int) -> None:
        """dbt in a thread cannot be interrupted; the step waits for it (dagster-dbt then gives up)."""


def _log_levels(env: Mapping[str, str]) -> dict[str, str]:
    """dbt's console log would repeat every line dagster-dbt already prints; its debug log file
    (DBT_LOG_PATH, the invocation's folder) stays, which "none" alone would switch off too."""
    return {"DBT_LOG_LEVEL": "none", "DBT_LOG_LEVEL_FILE": env.get("DBT_LOG_LEVEL_FILE", "debug")}


def _dbt_process(args: Sequence[str], *, env: Mapping[str, str], cwd=None, **kwargs: object):
    """What dagster-dbt starts as its dbt subprocess: the next invocation of the run's warm dbt
    worker (ward.dbt_worker), else dbt in a thread of this process."""
    from ward import dbt_worker

    worker = dbt_worker.current()
    invocation = worker and worker.invoke(args, {**env, **_log_levels(env)}, cwd)
    return invocation or InProcessDbt(args, env=env, cwd=cwd, **kwargs)


def run_dbt(dbt_args: Sequence[str], out) -> int:
    """One dbt invocation with dbtRunner in this process: dbt's JSON log lines at its default level
    written to `out` (as a dbt process prints them), then its exit code. Never raises: a crash is a
    failed invocation with its reason as an error line. The build database is let go of after."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    def forward(msg) -> None:
        if msg.info.level != "debug":  # what the subprocess prints at its default log level
            out.write(json.dumps(msg_to_dict(msg), default=str).encode() + b"\n")
            out.flush()

    try:
        result = dbtRunner(callbacks=[forward]).invoke(list(dbt_args))
        if result.exception is not None:
            out.write(dbt_error_line(f"dbt failed: {result.exception}"))
        return 0 if result.success else (1 if result.exception is None else LOST)
    except BaseException as error:  # reported as a failed dbt run, never lost
        out.write(dbt_error_line(f"dbt crashed: {type(error).__name__}: {error}"))
        return LOST
    finally:
        release_duckdb()


def release_duckdb() -> None:
    """Close the database file dbt-duckdb keeps open for the life of the process.

    A dbt process let go of the file when it ended; in this process the next step (another process,
    the GX worker, or a new connection) must find it unlocked, and this process must be able to open
    it again with another configuration (read_only). dbt-duckdb's own public classmethods: `env()`
    (which raises when no environment was created yet) and `close_all_connections()`, which drops it.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    try:
        environment = DuckDBConnectionManager.env()
    except Exception:  # none created in this process: nothing to close
        return
    environment.close()
    DuckDBConnectionManager.close_all_connections()


def dbt_error_line(message: str, name: str = "InProcessDbtError") -> bytes:
    """A JSON log line dagster-dbt reads as a dbt error: why an invocation failed or was lost."""
    event = {"info": {"name": name, "level": "error", "msg": message}, "data": {}}
    return json.dumps(event).encode() + b"\n"


@contextlib.contextmanager
def _environment(overrides: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def dbt_in_this_process() -> Iterator[None]:
    """While dagster-dbt starts an invocation, its `subprocess.Popen` is `InProcessDbt`."""
    from dagster_dbt.core import dbt_cli_invocation

    module = dbt_cli_invocation.subprocess
    dbt_cli_invocation.subprocess = types.SimpleNamespace(
        Popen=_dbt_process, PIPE=subprocess.PIPE, STDOUT=subprocess.STDOUT
    )
    try:
        yield
    finally:
        dbt_cli_invocation.subprocess = module


# ---------------------------------------------------------------------------------------------
# 2 and 3. The ward's DbtCliResource: dbt in this process, no `dbt --version`, no adapter


class DbtSubprocessesSkipped:
    """Mixed into a dagster_dbt.DbtCliResource (orchestration/resources.py, before it in the bases).

    Its version is the installed dbt-core package's: dagster-dbt would otherwise ask a `dbt --version`
    subprocess in every step that calls dbt (≈ 1.3 s each). No in-process dbt adapter either
    (≈ 0.3–1 s a call): it only serves column and row-count metadata, which the ward does not fetch.
    dbt itself runs in this process (`dbt_in_this_process`).
    """

    def _initialize_dbt_core_adapter(self, args):
        return None

    @cached_property
    def _cli_version(self):
        from dbt.version import __version__
        from packaging import version

        return version.parse(__version__)

    def cli(self, args, **kwargs):
        """dbt runs in this process: no dbt subprocess to start."""
        with dbt_in_this_process():
            return super().cli(args, **kwargs)  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# 4. GX keeps its DuckDB connection


class _DuckDBDialectName(str):
    value = "duckdb"  # GX reads `.value` of its dialect names (a str enum)


def keep_gx_duckdb_connections_open() -> None:
    """GX reads DuckDB results after closing the connection unless the dialect is 'persisted'.

    tests/unit/test_quality_rules.py::test_gx_counts_agree_with_sql fails if this stops working.
    """
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    dialects = engine._PERSISTED_CONNECTION_DIALECTS
    if "duckdb" not in dialects:
        engine._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DuckDBDialectName("duckdb"))
