"""The dbt models as Dagster assets, in the two phases the quality step sits between.

phase 1 (`dbt_staging`): models/staging — rename, cast, clean;
then assets/quality.py writes quality.row_issues from the staged tables;
phase 2 (`dbt_downstream`): models/intermediate and models/marts, which read quality.row_issues.
dbt tests come along as asset checks; an error-severity test fails the run before publication.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.resources import DBT_PROJECT, ensure_dbt_manifest

# dbt unit tests check the SQL, not the data: the test suite runs them, production runs skip them.
BUILD = ["build", "--exclude-resource-type", "unit_test"]
STAGING_SELECT = "path:models/staging"
DOWNSTREAM_SELECT = "path:models/intermediate path:models/marts"


class WardDbtTranslator(DagsterDbtTranslator):
    """Models keyed by layer (staging/…, intermediate/…, marts/…) and grouped by layer in the UI."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            layer = dbt_resource_props["fqn"][1]
            return dg.AssetKey([layer, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            return dbt_resource_props["fqn"][1]
        return super().get_group_name(dbt_resource_props)


TRANSLATOR = WardDbtTranslator()
ensure_dbt_manifest()  # the decorators below read it


def _dbt_phase(name: str, select: str) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=DBT_PROJECT.manifest_path,
        project=DBT_PROJECT,
        select=select,
        name=name,
        dagster_dbt_translator=TRANSLATOR,
    )
    def phase(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(BUILD, context=context).stream()

    return phase


dbt_staging = _dbt_phase("dbt_staging", STAGING_SELECT)
dbt_downstream = _dbt_phase("dbt_downstream", DOWNSTREAM_SELECT)


def marts_keys() -> list[dg.AssetKey]:
    return [k for k in dbt_downstream.keys if k.path[0] == "marts"]


def staging_key(model: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", model])
