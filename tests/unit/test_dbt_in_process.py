"""dbt in the step's process (ward/private_apis.py) keeps the dbt subprocess's contract:
JSON log lines on stdout, an exit code, errors reported, and the database file let go at the end."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.fixtures.dbt_env import data_root_for_dbt
from ward.private_apis import InProcessDbt
from ward.settings import DBT_PROJECT_DIR


@pytest.fixture
def dbt_env(tmp_path, monkeypatch):
    return data_root_for_dbt(tmp_path, monkeypatch)


def _run(args: list[str], log_path=None, cwd=None) -> tuple[int, list[dict]]:
    env = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **({"DBT_LOG_PATH": str(log_path)} if log_path else {})}
    dbt = InProcessDbt(["dbt", *args], env=env, cwd=cwd)
    events = [json.loads(line) for line in dbt.stdout]
    return dbt.wait(), events


def test_a_query_runs_and_the_database_file_is_free_afterwards(dbt_env, tmp_path):
    project = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    # dagster-dbt names the log folder relative to the folder the subprocess would have run in
    code, events = _run(["show", "--inline", "select 42 as answer", *project], log_path="log", cwd=tmp_path)
    assert code == 0
    assert {e["info"]["level"] for e in events} <= {"info", "warn"}  # the subprocess's default level
    assert any("42" in e["info"]["msg"] for e in events)
    assert "select 42" in (tmp_path / "log" / "dbt.log").read_text()  # the debug log is kept, there
    # Another process (the GX worker, the next step) can take the write lock.
    opened = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(dbt_env.build_db_path)!r}).close()"],
        capture_output=True,
        text=True,
    )
    assert opened.returncode == 0, opened.stderr


def test_a_failing_invocation_is_an_error_with_dbts_message(dbt_env):
    code, events = _run(["build", "--no-such-flag"])
    assert code != 0
    errors = [e["info"]["msg"] for e in events if e["info"]["level"] == "error"]
    assert errors and "no-such-flag" in " ".join(errors)
