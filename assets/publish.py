"""Publication: the analysts' warehouse and the exported marts, replaced whole and together.

One step publishes both (ward.publish.together): the warehouse is a copy of the build database
(the copy published two runs ago, brought up to date block by block: ≈ 0.2 s at 1M residents, a
whole new copy 0.3–2 s), made beside the exports, which are written from the build database
meanwhile; both are swapped in only when both are ready, or neither is.

The data dictionary goes with them (ward/publish/dictionary.py): `dbt docs generate` renders the
marts' descriptions, lineage and catalog from the build database first, and the site is swapped
into <data root>/docs/ once the warehouse and the exports are; if dbt cannot render it, the run
warns and the previous site stays. The site describes the project (a DuckDB catalog has no row
counts), so it is rendered again only when the dbt project or the ward code changed (≈ 2 s of a
daily run at 1M residents).
"""

import dagster as dg
from dagster_dbt import DbtCliResource

from assets.dbt import marts_keys, persons_marts
from assets.history import SNP_HOUSEHOLDS, SNP_PERSONS
from orchestration.resources import (
    WardResource,
    dbt_manifest,
    dbt_project_fingerprint,
    dbt_target,
)
from ward.build_state import PERSONS_CONSUMER, is_unchanged, store_fingerprint, stored_fingerprint
from ward.duckdb_config import connect_build_db
from ward.publish.atomic import discard_version_dir
from ward.publish.dictionary import DOCS_ARGS, commit_docs, docs_dir, stage_docs
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
def publish(context: dg.AssetExecutionContext, ward: WardResource, dbt: DbtCliResource):
    settings = ward.settings
    docs_current = _docs_current(settings)
    docs = None if docs_current else _stage_docs(context, dbt, settings)
    try:
        published = publish_together(
            settings.build_db_path,
            settings.warehouse_path,
            settings.exports_dir,
            lambda: _export(context, settings),
            settings.readers_group,
        )
    except PublishError as error:
        if docs is not None:
            discard_version_dir(docs)
        raise dg.Failure(description=str(error)) from error
    docs = docs and _commit_docs(context, docs, settings)
    if docs:
        with connect_build_db(settings) as con:
            store_fingerprint(con, DOCS_CONSUMER, _docs_version(settings))
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
            "docs": dg.MetadataValue.path(str(docs_dir(settings.data_dir)))
            if docs or docs_current
            else "not rebuilt",
        },
    )


def _published_warehouse(path) -> dg.MaterializeResult:
    return dg.MaterializeResult(asset_key=WAREHOUSE_KEY, metadata={"path": dg.MetadataValue.path(str(path))})


DOCS_CONSUMER = "dbt_docs"


def _docs_version(settings: Settings) -> str:
    return f"{dbt_project_fingerprint()}:{settings.ward_code}"


def _docs_current(settings: Settings) -> bool:
    """The site in <data root>/docs was rendered from this dbt project and ward code."""
    if not (docs_dir(settings.data_dir) / "index.html").exists():
        return False
    with connect_build_db(settings) as con:
        return is_unchanged(con, DOCS_CONSUMER, _docs_version(settings))


def _stage_docs(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: Settings):
    """dbt docs of this build, staged beside <data root>/docs (None, with a warning, on failure)."""
    try:
        with dbt_target(settings, "dbt_docs") as target_path:
            invocation = dbt.cli(
                DOCS_ARGS, manifest=dbt_manifest(), raise_on_error=False, target_path=target_path
            ).wait()
            if not invocation.is_successful():
                raise RuntimeError(str(invocation.get_error() or "dbt docs generate failed"))
            return stage_docs(target_path, settings.data_dir)
    except Exception as error:  # the data is published without it; the previous site stays
        context.log.warning(f"The dbt docs were not rebuilt ({type(error).__name__}: {error})")
        return None


def _commit_docs(context: dg.AssetExecutionContext, docs, settings: Settings):
    try:
        return commit_docs(docs, settings.data_dir)
    except OSError as error:  # the data is published; the previous site stays
        discard_version_dir(docs)
        context.log.warning(f"The dbt docs were not swapped in ({type(error).__name__}: {error})")
        return None


def _export(context: dg.AssetExecutionContext, settings: Settings) -> ExportReport:
    # The persons marts are as good as their inputs' fingerprint: unchanged, their files are reused.
    with connect_build_db(settings, read_only=True) as con:
        persons = stored_fingerprint(con, PERSONS_CONSUMER)
    tokens = {mart: persons for mart in persons_marts()} if persons else {}
    report = export_marts(
        settings.build_db_path,
        settings.exports_dir,
        settings.shared_export_key,
        tokens,
        readers_group=settings.readers_group,
        swap=False,
        settings=settings,
    )
    if report.reused:
        context.log.info(f"Unchanged since the last export, linked not rewritten: {', '.join(report.reused)}")
    if report.shared_skipped_reason:
        context.log.warning(report.shared_skipped_reason)
    return report
