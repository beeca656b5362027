"""`ward ui`: the Dagster UI (and its daemon, for sensors and schedules) on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ward.cli.instance import use_ward_instance
from ward.settings import REPO_ROOT, Settings


def start_ui(settings: Settings, port: int | None = None) -> int:
    use_ward_instance(settings)
    env = {**os.environ, **settings.dbt_env()}
    dagster = Path(sys.executable).with_name("dagster")
    command = [
        str(dagster), "dev", "-w", str(REPO_ROOT / "workspace.yaml"),
        "-h", "127.0.0.1", "-p", str(port or settings.ui_port),
    ]  # fmt: skip
    return subprocess.call(command, cwd=REPO_ROOT, env=env)
