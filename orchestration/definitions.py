"""The Dagster code location: composes the areas, defines nothing itself."""

from __future__ import annotations

import dagster as dg

from assets.dbt import dbt_downstream, dbt_staging
from assets.history import history_snapshots
from assets.identity import identity_step
from assets.ingest import landing_extracts
from assets.publish import publish
from assets.quality import quality_step
from orchestration.checks import build_rule_checks
from orchestration.freshness import build_freshness_checks
from orchestration.jobs import ward_pipeline
from orchestration.resources import GxResource, WardResource, dbt_resource, give_dbt_its_environment
from orchestration.schedules import nightly_rebuild
from orchestration.sensors import landing_sensor
from ward.settings import Settings


def build_definitions(settings: Settings, loggers: dict | None = None) -> dg.Definitions:
    give_dbt_its_environment(settings)
    ward = WardResource.from_settings(settings)
    return dg.Definitions(
        assets=[
            landing_extracts,
            dbt_staging,
            quality_step,
            identity_step,
            dbt_downstream,
            history_snapshots,
            publish,
        ],
        asset_checks=[build_rule_checks(), *build_freshness_checks(settings)],
        jobs=[ward_pipeline],
        schedules=[nightly_rebuild],
        sensors=[landing_sensor],
        resources={"ward": ward, "gx_worker": GxResource(ward=ward), "dbt": dbt_resource()},
        loggers=loggers,
    )


defs = build_definitions(Settings.from_env())
