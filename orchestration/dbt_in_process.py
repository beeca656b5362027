"""dbt run inside the step's own process, behind the interface dagster-dbt gives a dbt subprocess.

A dbt subprocess costs about 2 s before any work (interpreter, dbt's imports, the adapter), twice in
every run: most of what a daily run spends in dbt. dbt's programmatic entry point (dbtRunner) does
the same work in this process, and a second invocation reuses the first's imports (≈ 0.3 s).

dagster-dbt turns a dbt process's JSON log lines into asset events. `InProcessDbt` stands in for
that process (`subprocess.Popen`: args, stdout, wait, returncode): dbtRunner runs in a thread and
its events are written as the same JSON lines to a pipe. Everything else (selection from the
Dagster context, target paths, events, errors) stays dagster-dbt's own code.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import types
from collections.abc import Iterator, Mapping, Sequence

# dbt reads these from the environment dagster-dbt gives its subprocess; the rest is os.environ.
_DBT_ENV_PREFIXES = ("DBT_", "DAGSTER_DBT_")
_LOST = 2  # the return code of a dbt process that crashed
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
        # dbt's console log would repeat every line dagster-dbt already prints; its debug log file
        # (DBT_LOG_PATH, the invocation's folder) stays, which "none" alone would switch off too.
        overrides["DBT_LOG_LEVEL"] = "none"
        overrides.setdefault("DBT_LOG_LEVEL_FILE", "debug")
        self._thread = threading.Thread(
            target=self._invoke, args=(self.args[1:], overrides, write_fd), name="dbt", daemon=True
        )
        self._thread.start()

    def _invoke(self, dbt_args: list[str], overrides: dict[str, str], write_fd: int) -> None:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_dict

        with os.fdopen(write_fd, "wb") as out:

            def forward(msg) -> None:
                if msg.info.level != "debug":  # what the subprocess prints at its default log level
                    out.write(json.dumps(msg_to_dict(msg), default=str).encode() + b"\n")
                    out.flush()

            try:
                with _environment(overrides):
                    result = dbtRunner(callbacks=[forward]).invoke(dbt_args)
                self.returncode = 0 if result.success else (1 if result.exception is None else _LOST)
                if result.exception is not None:
                    out.write(_error_line(f"dbt failed: {result.exception}"))
            except BaseException as error:  # reported as a failed dbt run, never lost
                self.returncode = _LOST
                out.write(_error_line(f"dbt crashed: {type(error).__name__}: {error}"))
            finally:
                _release_duckdb()

    def wait(self, timeout: float | None = None) -> int:
        self._thread.join(timeout)
        return self.returncode if self.returncode is not None else _LOST

    def poll(self) -> int | None:
        return None if self._thread.is_alive() else self.wait()

    def send_signal(self, _signal: int) -> None:
        """dbt in a thread cannot be interrupted; the step waits for it (dagster-dbt then gives up)."""


def _release_duckdb() -> None:
    """Close the database file dbt-duckdb keeps open for the life of the process.

    A dbt process let go of the file when it ended; in this process the next step (another process,
    the GX worker, or a new connection) must find it unlocked.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def _error_line(message: str) -> bytes:
    event = {"info": {"name": "InProcessDbtError", "level": "error", "msg": message}, "data": {}}
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
        Popen=InProcessDbt, PIPE=subprocess.PIPE, STDOUT=subprocess.STDOUT
    )
    try:
        yield
    finally:
        dbt_cli_invocation.subprocess = module
