"""The Dagster instance under the data root: run history for the UI, no telemetry, no pop-up."""

from __future__ import annotations

import os

import yaml

from ward.settings import Settings


def dagster_yaml(settings: Settings) -> str:
    """The instance's configuration: Dagster's SQLite storage under the data root, its event log kept
    open between statements (ward/private_apis.py); no telemetry, and no "new user
    experience" (`nux`): without it the UI's first screen is a community e-mail pop-up."""
    event_log = {
        "module": "ward.private_apis",
        "class": "PooledSqliteEventLogStorage",
        "config": {"base_dir": str(settings.dagster_home.resolve() / "history" / "runs")},
    }
    config = {"telemetry": {"enabled": False}, "nux": {"enabled": False}, "event_log_storage": event_log}
    return "# Written by `ward` on each use (ward/cli/instance.py).\n" + yaml.safe_dump(config)


def use_ward_instance(settings: Settings) -> None:
    """Point DAGSTER_HOME at <data root>/.dagster, with its dagster.yaml (rewritten if the data root
    moved or the configuration changed)."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    wanted = dagster_yaml(settings)
    if not config.exists() or config.read_text() != wanted:
        config.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
