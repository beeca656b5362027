"""One `ward run` at a time (build/run.lock), a damaged build database told apart from a busy one,
and a step failure that says its cause (ward/build_guard.py, ward/cli/progress.py)."""

from __future__ import annotations

import fcntl
import io
import os
import re
import subprocess
import sys
import threading
import time

import dagster as dg
import duckdb
import pytest
from dagster_shared.error import SerializableErrorInfo
from rich.console import Console

from orchestration.resources import WardResource
from ward.build_guard import (
    EXIT_RUN_IN_PROGRESS,
    BuildDatabaseBusy,
    RunInProgress,
    inspect_build_database,
    lock_path,
    recover_damaged_build_database,
    run_lock,
)
from ward.cli.progress import failure_text
from ward.cli.run import run_pipeline
from ward.settings import Settings


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path, shared_export_key="k" * 32)


def _hold(settings: Settings, content: bytes = b"4242 2026-12-04T10:00:00+07:00\n") -> int:
    """The lock as another run holds it: an exclusive flock on its own open file."""
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.ftruncate(fd, 0)
    os.pwrite(fd, content, 0)
    return fd


def test_a_second_run_refuses_with_exit_3_and_says_who_runs(settings):
    fd = _hold(settings)
    try:
        output = io.StringIO()
        code = run_pipeline(settings, Console(file=output, width=300))
    finally:
        os.close(fd)
    assert code == EXIT_RUN_IN_PROGRESS == 3
    text = " ".join(output.getvalue().split())
    assert "another run is in progress since 2026-12-04T10:00:00+07:00 (pid 4242)" in text
    assert "--wait" in text


def test_the_lock_records_its_holder_and_is_free_again_after_the_block(settings):
    with run_lock(settings):
        pid, since = lock_path(settings).read_text().split()
        assert int(pid) == os.getpid() and since[:4].isdigit()
        with pytest.raises(RunInProgress, match=re.escape(f"since {since} (pid {pid})")), run_lock(settings):
            pass
    with run_lock(settings):  # released
        pass
    assert oct(lock_path(settings).stat().st_mode & 0o777) == "0o600"


def test_wait_waits_for_the_other_run_to_end(settings):
    fd = _hold(settings)
    told = []
    threading.Timer(0.5, os.close, [fd]).start()
    started = time.monotonic()
    with run_lock(settings, wait=True, on_wait=told.append):
        waited = time.monotonic() - started
    assert waited >= 0.4
    assert told == ["another run is in progress since 2026-12-04T10:00:00+07:00 (pid 4242)"]


def test_a_run_that_dies_leaves_no_lock_behind(settings):
    """flock goes with the process: a run killed mid-way does not block the next one."""
    code = (
        "import os, sys; from pathlib import Path; from ward.settings import Settings; "
        "from ward.build_guard import run_lock; "
        "s = Settings(data_dir=Path(sys.argv[1])); "
        "cm = run_lock(s); cm.__enter__(); print('held', flush=True); os._exit(9)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(settings.data_dir)], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "held" and done.returncode == 9
    with run_lock(settings):
        pass


def test_an_unknown_holder_is_said_plainly(settings):
    fd = _hold(settings, b"")
    try:
        with pytest.raises(RunInProgress, match=r"since an unknown time \(pid unknown\)"), run_lock(settings):
            pass
    finally:
        os.close(fd)


@pytest.fixture
def healthy_db(settings):
    path = settings.build_db_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.t as select range as i, repeat('x', 200) as s from range(200000)")
    return path


def test_a_healthy_or_missing_database_is_not_damaged(settings, healthy_db):
    assert inspect_build_database(healthy_db) is None
    assert inspect_build_database(healthy_db.with_name("absent.duckdb")) is None
    assert recover_damaged_build_database(settings) is None
    assert healthy_db.exists()


def test_a_database_whose_free_end_a_checkpoint_cut_off_is_not_damaged(tmp_path):
    """DuckDB cuts free blocks off the end of its file at a checkpoint (found after an ordinary
    `ward run`, which the next run then took for a truncated file and rebuilt whole)."""
    path = tmp_path / "ward.duckdb"
    table = "create table {} as select range as x, md5(range::varchar) as y from range(300000)"
    for statements in ([table.format("a")], [table.format("b")], ["drop table b", "checkpoint"]):
        with duckdb.connect(str(path)) as con:
            for sql in statements:
                con.execute(sql)
    with duckdb.connect(str(path), read_only=True) as con:
        total, size = con.execute("select total_blocks, block_size from pragma_database_size()").fetchall()[0]
        assert con.execute("select count(*) from a").fetchall() == [(300000,)]
    assert path.stat().st_size < 3 * 4096 + total * size  # shorter than every block counted
    assert inspect_build_database(path) is None
    os.truncate(path, path.stat().st_size - size)  # one block in use cut off: damaged
    assert inspect_build_database(path) is not None


@pytest.mark.parametrize(
    "damage, cause",
    [
        ("empty", "empty (0 bytes)"),
        ("random head", "not a valid DuckDB database file"),
        ("truncated", "ward.duckdb was damaged"),
        ("half", ""),
    ],
)
def test_a_damaged_database_is_moved_aside_with_its_cause(settings, healthy_db, damage, cause):
    size = healthy_db.stat().st_size
    if damage == "empty":
        healthy_db.write_bytes(b"")
    elif damage == "random head":
        with healthy_db.open("r+b") as fh:
            fh.write(os.urandom(8192))
    else:
        os.truncate(healthy_db, size - 4096 if damage == "truncated" else size // 2)
    message = recover_damaged_build_database(settings)
    assert message is not None and cause in message
    assert "rebuilds it whole from the raw lake" in message
    assert not healthy_db.exists()
    aside = list(healthy_db.parent.glob("ward.duckdb.damaged-*"))
    assert len(aside) == 1 and aside[0].name in message


def test_a_database_held_by_another_process_is_busy_not_damaged(settings, healthy_db):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); time.sleep(60)", str(healthy_db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(BuildDatabaseBusy, match="Conflicting lock"):
            recover_damaged_build_database(settings)
        assert healthy_db.exists()
        output = io.StringIO()
        assert run_pipeline(settings, Console(file=output, width=300)) == EXIT_RUN_IN_PROGRESS
        assert "in use by another process" in output.getvalue()
    finally:
        holder.kill()
        holder.wait()


def _error(message: str, cls_name: str, cause: SerializableErrorInfo | None = None) -> SerializableErrorInfo:
    return SerializableErrorInfo(message=message, stack=[], cls_name=cls_name, cause=cause)


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def test_a_step_failure_shows_its_cause_not_only_the_wrapper():
    lock = _error(
        'IO Error: Could not set lock on file "/d/build/ward.duckdb": Conflicting lock is held in '
        "/usr/bin/python3 (PID 77)\n",
        "IOException",
    )
    wrapped = _error(
        f"{_qualified_name(dg.DagsterExecutionStepExecutionError)}: "
        'Error occurred while executing op "dbt_staging":\n',
        "DagsterExecutionStepExecutionError",
        lock,
    )
    text = failure_text(wrapped)
    assert "Error occurred while executing op" in text
    assert "IOException: IO Error: Could not set lock" in text and "(PID 77)" in text
    dbt = _error(
        "The dbt CLI process with command\n\n`dbt build`\n\nfailed with exit code `1`. Check the stdout…\n\n"
        'Errors parsed from dbt logs:\n\nRuntime Error\n  IO Error: Could not set lock on file "x"',
        "DagsterDbtCliRuntimeError",
    )
    assert failure_text(dbt) == 'dbt: Runtime Error IO Error: Could not set lock on file "x"'
    assert failure_text(None) == ""
    assert len(failure_text(_error("x" * 2000, "E"))) <= 400


def _lock_probe_job(settings: Settings) -> dg.JobDefinition:
    """A one-step job on the `ward` resource, as the UI or the sensor launches the pipeline's."""

    @dg.op
    def probe(ward: WardResource) -> None:
        with pytest.raises(RunInProgress), run_lock(ward.settings):  # held by this run
            pass

    @dg.job(resource_defs={"ward": WardResource.from_settings(settings)}, executor_def=dg.in_process_executor)
    def lock_probe():
        probe()

    return lock_probe


def test_a_run_launched_outside_ward_run_holds_the_lock_for_its_steps(settings):
    result = _lock_probe_job(settings).execute_in_process()
    assert result.success
    with run_lock(settings):  # released when the run ends
        pass


def test_a_run_inside_ward_run_uses_the_lock_ward_run_holds(settings):
    with run_lock(settings):
        assert _lock_probe_job(settings).execute_in_process().success  # no deadlock, no refusal


def test_a_run_waits_for_a_ward_run_to_end_and_says_so(settings):
    fd = _hold(settings)
    job = _lock_probe_job(settings)
    with dg.DagsterInstance.ephemeral() as instance:
        started = time.monotonic()
        threading.Timer(1.0, os.close, [fd]).start()
        result = job.execute_in_process(instance=instance)
        waited = time.monotonic() - started
        messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert result.success and waited >= 0.9
    assert any(
        "another run is in progress since 2026-12-04T10:00:00+07:00 (pid 4242): this run waits" in m
        for m in messages
    )


def test_a_sensor_tick_takes_no_lock_while_a_run_builds(settings):
    """The landing sensor reads the `ward` resource outside any run: it must not wait for the lock."""
    from orchestration.definitions import build_definitions
    from orchestration.sensors import landing_sensor

    defs = build_definitions(settings)
    fd = _hold(settings)
    ticks = []
    try:
        with dg.DagsterInstance.ephemeral() as instance:

            def evaluate() -> None:
                with dg.build_sensor_context(
                    resources={"ward": WardResource.from_settings(settings)},
                    definitions=defs,
                    instance=instance,
                ) as context:
                    ticks.append(landing_sensor(context))

            tick = threading.Thread(target=evaluate, daemon=True)
            tick.start()
            tick.join(timeout=120)  # a tick waiting for the lock would wait for ever
    finally:
        os.close(fd)
    assert ticks and isinstance(ticks[0], dg.SkipReason | dg.RunRequest)
