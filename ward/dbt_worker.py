"""A dbt process started first thing by `ward run`, warmed while the run starts, that runs its dbt.

The first dbt invocation in a process pays ≈ 1 s before its first model (dbt's imports, the
(de)serialisers mashumaro generates, the JSON schemas of dbt's config classes, reading the partial
parse); a later one ≈ 0.1 s. This worker pays that second with a `dbt parse` into a scratch folder,
on the machine's other core, while the run imports Dagster, loads its definitions and ingests; the
run's dbt invocations then go to it (ward.private_apis: the subprocess dagster-dbt starts is this
worker's next invocation, or dbt in a thread when there is no idle worker). dbt's own Python work
then also runs beside Dagster's event handling instead of taking turns with it under one
interpreter lock. Measured: docs/architecture.md, "Incremental runs" (fixed costs).

One invocation at a time, as a dbt subprocess would run it: the environment and the working folder
of the request, dbt's JSON log lines back as the process's output, its exit code. The worker holds
the build database only during an invocation (ward.private_apis.release_duckdb), as a dbt process
did, and it ends when the run's process closes its input (or dies).

Protocol on the worker's stdin: one JSON request a line, {"args", "env", "cwd", "quiet", "scratch"}.
On its reply stream: each invocation's log lines, then {END: {"returncode": n}}.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ward.private_apis import LOST, dbt_error_line, run_dbt  # importing it imports no package

if TYPE_CHECKING:
    from ward.settings import Settings

END = "ward_dbt_worker_end"  # the key of the line that ends an invocation's output


class WorkerDbt:
    """A `subprocess.Popen` look-alike for one dbt invocation the worker runs."""

    def __init__(self, args: Sequence[str]) -> None:
        self.args = list(args)
        self.returncode: int | None = None
        read_fd, self._write_fd = os.pipe()
        self.stdout = os.fdopen(read_fd, "rb")
        self._done = threading.Event()

    def _line(self, line: bytes) -> None:
        with contextlib.suppress(OSError):  # the reader stopped reading (its step failed): dropped
            os.write(self._write_fd, line)

    def _end(self, returncode: int) -> None:
        self.returncode = returncode
        with contextlib.suppress(OSError):
            os.close(self._write_fd)
        self._done.set()

    def wait(self, timeout: float | None = None) -> int:
        self._done.wait(timeout)
        return self.returncode if self.returncode is not None else LOST

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, _signal: int) -> None:
        """As dbt in a thread: the step waits for the invocation to end."""


class _Quiet(WorkerDbt):
    """The warm-up: its output is not read."""

    def __init__(self) -> None:  # no pipe
        self.args, self.returncode, self._done = ["parse"], None, threading.Event()

    def _line(self, line: bytes) -> None:
        pass

    def _end(self, returncode: int) -> None:
        self.returncode = returncode
        self._done.set()


class DbtWorker:
    """The run process's side: starts the worker, sends it invocations, relays what it writes."""

    def __init__(self, warm_up: Mapping[str, object]) -> None:
        self._lock = threading.Lock()
        self._pending: deque[WorkerDbt] = deque()  # sent, in the order the worker runs them
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ward.dbt_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.warm_up, self.scratch = _Quiet(), Path(str(warm_up["scratch"]))
        self._send(self.warm_up, warm_up)
        threading.Thread(target=self._relay, name="dbt-worker-relay", daemon=True).start()

    def invoke(self, args: Sequence[str], env: Mapping[str, str], cwd: str | None) -> WorkerDbt | None:
        """The invocation, sent to the worker; None when the worker has ended or runs another one
        (the caller then runs dbt itself). The warm-up is waited for: it is what makes this fast."""
        with self._lock:
            if self._process.poll() is not None or any(not isinstance(p, _Quiet) for p in self._pending):
                return None
            invocation = WorkerDbt(args)
            request = {"args": list(args[1:]), "env": dict(env), "cwd": str(cwd) if cwd else None}
            try:
                self._send(invocation, request)
            except OSError:  # the worker is gone
                invocation._end(LOST)
                return None
            return invocation

    def _send(self, invocation: WorkerDbt, request: Mapping[str, object]) -> None:
        self._pending.append(invocation)
        try:
            self._process.stdin.write(json.dumps(request).encode() + b"\n")
            self._process.stdin.flush()
        except OSError:
            self._pending.pop()
            raise

    def _relay(self) -> None:
        for line in self._process.stdout:
            if line.startswith(b'{"' + END.encode()):
                returncode = json.loads(line)[END]["returncode"]
                with self._lock:
                    invocation = self._pending.popleft()
                invocation._end(returncode)
            elif self._pending:
                self._pending[0]._line(line)
        # The worker ended: whatever it was running is lost, and said so in dbt's own terms.
        code = self._process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)  # removed already, unless it died warming up
        with self._lock:
            lost, self._pending = list(self._pending), deque()
        for invocation in lost:
            message = f"the dbt worker process ended (exit code {code}) during this dbt invocation"
            invocation._line(dbt_error_line(message, "DbtWorkerError"))
            invocation._end(LOST)

    def close(self) -> None:
        """Lets the worker end: it finishes what it runs (at most a warm-up, when the run built
        nothing: every invocation of a run has ended with it) and its interpreter ends on its own,
        not waited for."""
        with contextlib.suppress(OSError):
            self._process.stdin.close()


_current: DbtWorker | None = None


def current() -> DbtWorker | None:
    """The worker of this run process, if `ward run` (or the bench) started one."""
    return _current


@contextlib.contextmanager
def dbt_worker_for_this_run(settings: Settings) -> Iterator[DbtWorker | None]:
    """A warm dbt worker for the run this process makes, ended with it. None (dbt then runs in a
    thread of this process) when the worker cannot start."""
    global _current
    warm_up = _warm_up_request(settings)
    try:
        worker = DbtWorker(warm_up)
    except OSError:
        shutil.rmtree(str(warm_up["scratch"]), ignore_errors=True)
        worker = None
    _current = worker
    try:
        yield worker
    finally:
        _current = None
        if worker is not None:
            worker.close()


def _warm_up_request(settings: Settings) -> dict[str, object]:
    """`dbt parse` as the run's first invocation will see the project (same profile, variables and
    environment, so the saved parse state holds), in a scratch folder seeded with the data root's
    parse state and removed after: nothing of the data root is written (the run's lock may not be
    held yet), and the run's own invocations keep their state (orchestration/resources.py)."""
    from ward.settings import DBT_PROJECT_DIR

    scratch = Path(tempfile.mkdtemp(prefix="ward-dbt-warm-up-"))  # owner-only
    with contextlib.suppress(OSError):
        shutil.copyfile(settings.dbt_target_dir / "partial_parse.msgpack", scratch / "partial_parse.msgpack")
    env = {
        **os.environ,
        **settings.dbt_env(),
        # as dagster-dbt gives its dbt subprocess (DbtCliResource.cli)
        "DAGSTER_DBT_CLI": "true",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_LOG_FORMAT": "json",
        "DBT_LOG_LEVEL": "none",
        "DBT_LOG_LEVEL_FILE": "none",
        "DBT_TARGET_PATH": str(scratch),
        "DBT_LOG_PATH": str(scratch),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
    }
    return {
        "args": ["parse", "--no-write-json"],
        "env": env,
        "cwd": str(DBT_PROJECT_DIR),
        "quiet": True,
        "scratch": str(scratch),
    }


# ---------------------------------------------------------------------------------------------
# The worker process


def _serve(requests, replies) -> None:
    for raw in requests:
        request = json.loads(raw)
        os.environ.clear()
        os.environ.update(request["env"])
        if request.get("cwd"):
            os.chdir(request["cwd"])
        out = _Discard() if request.get("quiet") else replies
        returncode = run_dbt(request["args"], out)
        if request.get("scratch"):
            shutil.rmtree(request["scratch"], ignore_errors=True)
        replies.write(json.dumps({END: {"returncode": returncode}}).encode() + b"\n")
        replies.flush()


class _Discard:
    def write(self, _data: bytes) -> None:
        pass

    def flush(self) -> None:
        pass


if __name__ == "__main__":
    # The replies go to the parent's pipe (fd 1); anything a library prints goes to stderr instead.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with contextlib.suppress(KeyboardInterrupt):  # the run was interrupted: so is its dbt
        _serve(sys.stdin.buffer, replies)
    replies.close()
