"""The Dagster code location: composes the areas, defines nothing itself."""

from __future__ import annotations

import dagster as dg

from assets.dbt import dbt_downstream, dbt_staging
from assets.delivery_partitions import delivery_spec
from assets.history import history_snapshots
from assets.identity import identity_step
from assets.ingest import landing_extracts
from assets.publish import publish
from assets.quality import quality_step
from assets.steward import steward_view
from orchestration.checks import build_rule_checks
from orchestration.freshness import build_freshness_checks, build_freshness_sensor
from orchestration.jobs import ward_pipeline
from orchestration.resources import (
    GxResource,
    WardResource,
    dbt_manifest,
    dbt_resource,
    give_dbt_its_environment,
)
from orchestration.schedules import nightly_rebuild
from orchestration.sensors import landing_sensor
from orchestration.steward import external_specs, with_vietnamese
from ward.long_lived import collect_in_larger_batches, freeze_long_lived
from ward.settings import Settings


def build_definitions(settings: Settings, loggers: dict | None = None) -> dg.Definitions:
    give_dbt_its_environment(settings)
    ward = WardResource.from_settings(settings)
    freshness_checks = build_freshness_checks(settings)
    assets = [
        landing_extracts,
        dbt_staging,
        quality_step,
        with_vietnamese(identity_step),
        dbt_downstream,
        with_vietnamese(history_snapshots),
        with_vietnamese(publish),
        steward_view,
    ]
    produced = {key for a in assets for key in a.keys}
    return dg.Definitions(
        # described sources; each delivery as a partition, reported by the steward view
        assets=[*assets, *external_specs(dbt_manifest(), produced), delivery_spec],
        asset_checks=[build_rule_checks(), *freshness_checks],
        jobs=[ward_pipeline],
        schedules=[nightly_rebuild],
        sensors=[landing_sensor, build_freshness_sensor(freshness_checks)],
        resources={"ward": ward, "gx_worker": GxResource(ward=ward), "dbt": dbt_resource()},
        loggers=loggers,
        # One process per run, as `ward run`: the steps follow one another anyway (DuckDB's threads
        # do the parallel work), a process per step would pay the imports (≈ 4 s) ten times, and
        # the `ward` resource's run lock is held once for the whole run.
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())
# What the code location's process (the UI's code server, a run's worker) imported and built lives as
# long as the process: out of the collector's walks from now on, and what its runs make collected in
# larger batches (ward.long_lived).
freeze_long_lived()
collect_in_larger_batches()
