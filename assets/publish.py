"""Publication: the analysts' warehouse and the exported marts, replaced whole and together.

One step publishes both (ward.publish.together): the warehouse is a file copy (≈ 1–2 s at 1M
residents) that needs no CPU, so the exports are written from the build database while it runs;
both are swapped in only when both are ready, or neither is.
"""

import dagster as dg
import duckdb

from assets.dbt import marts_keys, persons_marts
from assets.history import SNP_HOUSEHOLDS, SNP_PERSONS
from orchestration.resources import WardResource
from ward.build_state import stored_fingerprint
from ward.publish.exports import ExportReport, export_marts
from ward.publish.together import PublishError, publish_together
from ward.settings import Settings

WAREHOUSE_KEY = dg.AssetKey(["published", "warehouse"])
EXPORTS_KEY = dg.AssetKey(["published", "exports"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            WAREHOUSE_KEY,
            deps=[*marts_keys(), SNP_PERSONS, SNP_HOUSEHOLDS],  # history is published with the marts
            group_name="published",
            description="warehouse/ward.duckdb: the build database, swapped in whole for analysts.",
        ),
        dg.AssetSpec(
            EXPORTS_KEY,
            deps=marts_keys(),
            group_name="published",
            description="exports/<mart>.parquet + manifest.json, and exports/shared/ without personal data.",
        ),
    ],
    name="publish",
)
def publish(context: dg.AssetExecutionContext, ward: WardResource):
    settings = ward.settings
    try:
        published = publish_together(
            settings.build_db_path,
            settings.warehouse_path,
            settings.exports_dir,
            lambda: _export(context, settings),
            settings.readers_group,
        )
    except PublishError as error:
        raise dg.Failure(description=str(error)) from error
    report = published.exports
    yield _published_warehouse(published.warehouse)
    yield dg.MaterializeResult(
        asset_key=EXPORTS_KEY,
        metadata={
            "path": dg.MetadataValue.path(str(settings.exports_dir)),
            "tables": dg.MetadataValue.json(report.tables),
            "shared_tables": dg.MetadataValue.json(report.shared_tables),
            "shared_tier": report.shared_skipped_reason or "written",
            "reused_unchanged": dg.MetadataValue.json(report.reused),
        },
    )


def _published_warehouse(path) -> dg.MaterializeResult:
    return dg.MaterializeResult(asset_key=WAREHOUSE_KEY, metadata={"path": dg.MetadataValue.path(str(path))})


def _export(context: dg.AssetExecutionContext, settings: Settings) -> ExportReport:
    # The persons marts are as good as their inputs' fingerprint: unchanged, their files are reused.
    with duckdb.connect(str(settings.build_db_path), read_only=True) as con:
        persons = stored_fingerprint(con, "dbt_downstream")
    tokens = {mart: persons for mart in persons_marts()} if persons else {}
    report = export_marts(
        settings.build_db_path,
        settings.exports_dir,
        settings.shared_export_key,
        tokens,
        readers_group=settings.readers_group,
        swap=False,
    )
    if report.reused:
        context.log.info(f"Unchanged since the last export, linked not rewritten: {', '.join(report.reused)}")
    if report.shared_skipped_reason:
        context.log.warning(report.shared_skipped_reason)
    return report
