"""Publication: the analysts' warehouse and the exported marts, each replaced whole."""

import dagster as dg

from assets.dbt import marts_keys
from assets.history import SNP_HOUSEHOLDS, SNP_PERSONS
from orchestration.resources import WardResource
from ward.publish.exports import export_marts
from ward.publish.warehouse import publish_warehouse

WAREHOUSE_KEY = dg.AssetKey(["published", "warehouse"])
EXPORTS_KEY = dg.AssetKey(["published", "exports"])


@dg.asset(
    key=WAREHOUSE_KEY,
    deps=[*marts_keys(), SNP_PERSONS, SNP_HOUSEHOLDS],  # the history schema is published with the marts
    group_name="published",
    description="warehouse/ward.duckdb: the build database, swapped in whole for analysts.",
)
def warehouse(ward: WardResource) -> dg.MaterializeResult:
    settings = ward.settings
    path = publish_warehouse(settings.build_db_path, settings.warehouse_path)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})


@dg.asset(
    key=EXPORTS_KEY,
    deps=marts_keys(),
    group_name="published",
    description="exports/<mart>.parquet + manifest.json, and exports/shared/ without personal data.",
)
def exports(context: dg.AssetExecutionContext, ward: WardResource) -> dg.MaterializeResult:
    settings = ward.settings
    report = export_marts(settings.build_db_path, settings.exports_dir, settings.shared_export_key)
    if report.shared_skipped_reason:
        context.log.warning(report.shared_skipped_reason)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.exports_dir)),
            "tables": dg.MetadataValue.json(report.tables),
            "shared_tables": dg.MetadataValue.json(report.shared_tables),
            "shared_tier": report.shared_skipped_reason or "written",
        }
    )
