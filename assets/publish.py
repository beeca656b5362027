"""Publication: the analysts' warehouse and the exported marts, each replaced whole."""

import dagster as dg
import duckdb

from assets.dbt import marts_keys, persons_marts
from assets.history import SNP_HOUSEHOLDS, SNP_PERSONS
from orchestration.resources import WardResource
from ward.build_state import stored_fingerprint
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
    # The persons marts are as good as their inputs' fingerprint: unchanged, their files are reused.
    with duckdb.connect(str(settings.build_db_path), read_only=True) as con:
        persons = stored_fingerprint(con, "dbt_downstream")
    tokens = {mart: persons for mart in persons_marts()} if persons else {}
    report = export_marts(settings.build_db_path, settings.exports_dir, settings.shared_export_key, tokens)
    if report.reused:
        context.log.info(f"Unchanged since the last export, linked not rewritten: {', '.join(report.reused)}")
    if report.shared_skipped_reason:
        context.log.warning(report.shared_skipped_reason)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.exports_dir)),
            "tables": dg.MetadataValue.json(report.tables),
            "shared_tables": dg.MetadataValue.json(report.shared_tables),
            "shared_tier": report.shared_skipped_reason or "written",
            "reused_unchanged": dg.MetadataValue.json(report.reused),
        }
    )
