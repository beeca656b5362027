"""The Dagster instance under the data root: run history for the UI, no telemetry."""

from __future__ import annotations

import os

from ward.settings import Settings

DAGSTER_YAML = "telemetry:\n  enabled: false\n"


def use_ward_instance(settings: Settings) -> None:
    """Point DAGSTER_HOME at <data root>/.dagster, creating it with its dagster.yaml."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
