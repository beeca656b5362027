"""The warm dbt worker (ward/dbt_worker.py) keeps a dbt subprocess's contract, as InProcessDbt does:
JSON log lines as output, an exit code, errors reported, the database file let go at the end; and it
is never waited for in vain: busy or gone, the caller runs dbt itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.fixtures.dbt_env import data_root_for_dbt
from ward import dbt_worker
from ward.dbt_worker import LOST, DbtWorker, WorkerDbt, dbt_worker_for_this_run
from ward.settings import DBT_PROJECT_DIR

PROJECT = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]


@pytest.fixture
def settings(tmp_path, monkeypatch):
    return data_root_for_dbt(tmp_path, monkeypatch)


@pytest.fixture
def worker(settings):
    with dbt_worker_for_this_run(settings) as worker:
        assert worker is not None and dbt_worker.current() is worker
        yield worker
    assert dbt_worker.current() is None


def _env(log_path) -> dict[str, str]:
    return {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_LOG_PATH": str(log_path),
            "DBT_LOG_LEVEL": "none", "DBT_LOG_LEVEL_FILE": "debug"}  # fmt: skip


def _events(invocation: WorkerDbt) -> tuple[int, list[dict]]:
    events = [json.loads(line) for line in invocation.stdout]
    return invocation.wait(), events


def test_a_query_runs_in_the_worker_and_the_database_file_is_free_afterwards(worker, settings, tmp_path):
    args = ["dbt", "show", "--inline", "select 42 as answer", *PROJECT]
    invocation = worker.invoke(args, _env(tmp_path / "log"), str(tmp_path))
    code, events = _events(invocation)
    assert code == 0
    assert {e["info"]["level"] for e in events} <= {"info", "warn"}
    assert any("42" in e["info"]["msg"] for e in events)
    assert events[0]["info"]["pid"] == worker._process.pid  # run by the worker, not here
    assert "select 42" in (tmp_path / "log" / "dbt.log").read_text()
    opened = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(settings.build_db_path)!r}).close()"],
        capture_output=True,
        text=True,
    )
    assert opened.returncode == 0, opened.stderr


def test_a_failing_invocation_is_an_error_with_dbts_message(worker, tmp_path):
    code, events = _events(worker.invoke(["dbt", "build", "--no-such-flag"], _env(tmp_path), None))
    assert code != 0
    errors = [e["info"]["msg"] for e in events if e["info"]["level"] == "error"]
    assert errors and "no-such-flag" in " ".join(errors)


def test_a_busy_worker_sends_the_caller_to_run_dbt_itself(worker, tmp_path):
    first = worker.invoke(["dbt", "show", "--inline", "select 1", *PROJECT], _env(tmp_path), None)
    assert worker.invoke(["dbt", "show", "--inline", "select 2", *PROJECT], _env(tmp_path), None) is None
    assert _events(first)[0] == 0
    again = worker.invoke(["dbt", "show", "--inline", "select 3", *PROJECT], _env(tmp_path), None)
    assert again is not None and _events(again)[0] == 0


def test_a_worker_that_dies_fails_its_invocation_with_the_reason_and_takes_no_more(worker, tmp_path):
    invocation = worker.invoke(["dbt", "show", "--inline", "select 1", *PROJECT], _env(tmp_path), None)
    worker._process.kill()
    code, events = _events(invocation)
    assert code == LOST
    assert "dbt worker process ended" in events[-1]["info"]["msg"]
    assert events[-1]["info"]["level"] == "error"
    assert not worker.scratch.exists()  # the warm-up's folder goes with it
    assert worker.invoke(["dbt", "show", "--inline", "select 1"], _env(tmp_path), None) is None


def test_the_warm_up_parses_in_a_scratch_folder_and_writes_nothing_into_the_data_root(worker, settings):
    assert worker.warm_up.wait(120) == 0  # a `dbt parse`
    assert not worker.scratch.exists()  # removed once parsed
    assert not settings.dbt_target_dir.exists()


def test_a_worker_that_cannot_start_leaves_dbt_to_this_process(settings, monkeypatch):
    def no_process(*_args, **_kwargs):
        raise OSError("no processes left")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    scratch_before = set(Path(tempfile.gettempdir()).glob("ward-dbt-warm-up-*"))
    with dbt_worker_for_this_run(settings) as worker:
        assert worker is None and dbt_worker.current() is None
    assert set(Path(tempfile.gettempdir()).glob("ward-dbt-warm-up-*")) == scratch_before  # none left


def test_dagster_dbt_runs_its_dbt_in_the_runs_worker(worker):
    from orchestration.resources import dbt_resource

    invocation = dbt_resource().cli(["debug", "--config-dir"], raise_on_error=True).wait()
    assert invocation.is_successful()
    assert isinstance(invocation.process, WorkerDbt)
    assert isinstance(worker, DbtWorker)
