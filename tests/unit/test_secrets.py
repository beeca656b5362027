"""The Dagster UI: no secret in what it shows, a clean first screen, no process left behind.

And a shared-tier key that is no secret (spaces, too short) is refused.
"""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import psutil
import pytest
import yaml
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql
from typer.testing import CliRunner

from orchestration.resources import WardResource
from tests.fixtures.servers import answers, default_signals
from ward.cli import app
from ward.cli.instance import use_ward_instance
from ward.settings import ENV_SHARED_KEY, REPO_ROOT, Settings, SettingsError

KEY = "ui-must-never-show-this-0123456789"

# What the UI asks for its Resources page: every top-level resource's configured values.
RESOURCES_QUERY = """
query {
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        locationOrLoadError {
          __typename
          ... on PythonError { message }
          ... on RepositoryLocation {
            repositories {
              name
              allTopLevelResourceDetails { name configuredValues { key value type } }
            }
          }
        }
      }
    }
  }
}
"""


def test_the_graphql_api_shows_the_shared_key_variable_never_its_value(tmp_path, monkeypatch):
    monkeypatch.setenv("WARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(ENV_SHARED_KEY, KEY)
    with (
        dg.instance_for_test() as instance,
        # The code location as `ward ui` loads it (workspace.yaml), in its own process.
        define_out_of_process_context(str(REPO_ROOT / "workspace.yaml"), None, instance) as context,
    ):
        result = execute_dagster_graphql(context, RESOURCES_QUERY)

    (entry,) = result.data["workspaceOrError"]["locationEntries"]
    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location
    (repository,) = location["repositories"]
    resources = {r["name"]: r["configuredValues"] for r in repository["allTopLevelResourceDetails"]}
    assert KEY not in json.dumps(result.data)
    ward = {v["key"]: v for v in resources["ward"]}
    assert ward["shared_export_key"]["type"] == "ENV_VAR"
    assert ward["shared_export_key"]["value"] == ENV_SHARED_KEY


def test_a_resource_holds_the_key_as_its_variable_and_a_run_reads_the_value(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_SHARED_KEY, raising=False)
    settings = Settings(data_dir=tmp_path, shared_export_key=KEY)  # built in code, as tests do
    ward = WardResource.from_settings(settings)
    assert isinstance(ward.shared_export_key, dg.EnvVar)
    assert KEY not in json.dumps(ward.values)

    seen = {}

    @dg.asset
    def reads_the_key(ward: WardResource) -> None:
        seen["settings"] = ward.settings

    assert dg.materialize([reads_the_key], resources={"ward": ward}).success
    assert seen["settings"] == settings
    assert ward.settings == settings  # outside a run too


@pytest.mark.parametrize(
    "key", [" " * 40, "\t \n" * 8, "  short-key-123   ", "a b c d e f g h i j k l m n o"]
)
def test_a_key_of_spaces_or_fewer_than_16_other_characters_is_refused(tmp_path, key):
    with pytest.raises(SettingsError, match=rf"{ENV_SHARED_KEY} is refused: .*at least 16") as refused:
        Settings.from_env({"WARD_DATA_DIR": str(tmp_path), ENV_SHARED_KEY: key})
    assert key not in str(refused.value)


def test_ward_commands_refuse_a_key_of_spaces_with_the_reason(tmp_path):
    env = {"WARD_DATA_DIR": str(tmp_path), ENV_SHARED_KEY: " " * 32}
    for command in (["sql", "-c", "select 1"], ["run"]):
        result = CliRunner().invoke(app, command, env=env)
        assert result.exit_code == 2, result.output
        assert f"{ENV_SHARED_KEY} is refused" in " ".join(result.output.split())
        assert "Traceback" not in result.output


def test_a_long_enough_key_and_no_key_are_accepted(tmp_path):
    env = {"WARD_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(env).shared_export_key is None
    assert Settings.from_env({**env, ENV_SHARED_KEY: ""}).shared_export_key is None
    assert Settings.from_env({**env, ENV_SHARED_KEY: KEY}).shared_export_key == KEY


def test_the_instance_turns_off_telemetry_and_the_first_visit_pop_up(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = Settings(data_dir=tmp_path / "data")
    use_ward_instance(settings)
    config = yaml.safe_load((settings.dagster_home / "dagster.yaml").read_text())
    assert config["nux"] == {"enabled": False}
    assert config["telemetry"] == {"enabled": False}
    assert os.environ["DAGSTER_HOME"] == str(settings.dagster_home)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sigterm_to_ward_ui_leaves_no_dagster_process_behind(tmp_path):
    # ≈ 16 s here: `dagster dev` answers after ≈ 12 s.
    port = _free_port()
    env = {**os.environ, "WARD_DATA_DIR": str(tmp_path / "data"), "WARD_UI_PORT": str(port)}
    env.pop(ENV_SHARED_KEY, None)
    ward = Path(sys.executable).with_name("ward")
    log = (tmp_path / "ui.log").open("w")
    ui = subprocess.Popen(
        [str(ward), "ui", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so the test can clean up whatever happens
        preexec_fn=default_signals,
    )
    family: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 90
        while not answers(f"http://127.0.0.1:{port}/server_info"):
            assert ui.poll() is None, (tmp_path / "ui.log").read_text()
            assert time.monotonic() < deadline, "ward ui did not answer in 90 s"
            time.sleep(0.5)
        family = psutil.Process(ui.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in family)
        # `dagster dev` starts the daemon as `python -m <Dagster's daemon module> run`
        assert "dagster_webserver" in names and re.search(r"-m dagster\.\w*daemon\b", names), names

        ui.send_signal(signal.SIGTERM)
        ui.wait(timeout=40)
        _, alive = psutil.wait_procs(family, timeout=20)
        assert alive == [], [" ".join(p.cmdline()) for p in alive]
        assert not answers(f"http://127.0.0.1:{port}/server_info")
    finally:
        for process in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()
        log.close()
