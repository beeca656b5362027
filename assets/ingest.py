"""Ingest: every new file of the landing folder into the raw lake, recorded in the ledger.

The asset keys match the dbt sources (source `landing`), so dbt's staging models hang below them.
A re-delivered file (same bytes) is a no-op; a file that cannot be taken is set aside with a reason
and never stops the others.
"""

import dagster as dg

from orchestration.resources import WardResource
from ward.ingest.load import ingest_landing
from ward.settings import SOURCES

LANDING_KEYS = {source: dg.AssetKey(["landing", source]) for source in SOURCES}
DELIVERIES_KEY = dg.AssetKey(["landing", "deliveries"])


@dg.multi_asset(
    specs=[
        *(
            dg.AssetSpec(key, group_name="ingest", description=f"Raw {source} rows, all files.")
            for source, key in LANDING_KEYS.items()
        ),
        dg.AssetSpec(DELIVERIES_KEY, group_name="ingest", description="Ledger of every file."),
    ],
    name="landing_extracts",
)
def landing_extracts(context: dg.AssetExecutionContext, ward: WardResource):
    report = ingest_landing(ward.settings)
    for outcome in report.files:
        if outcome.status == "rejected":
            context.log.warning(f"{outcome.source_file}: rejected — {outcome.reason_en}")
        elif outcome.status == "duplicate":
            context.log.info(f"{outcome.source_file}: duplicate — {outcome.reason_en}")
    for source, key in LANDING_KEYS.items():
        files = [f for f in report.files if f.source == source]
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "new_files_loaded": sum(f.status == "loaded" for f in files),
                "files_rejected": sum(f.status == "rejected" for f in files),
                "files_duplicate": sum(f.status == "duplicate" for f in files),
                "rows_in": sum(f.rows_in or 0 for f in files if f.status == "loaded"),
            },
        )
    yield dg.MaterializeResult(
        asset_key=DELIVERIES_KEY,
        metadata={"files_seen_this_run": len(report.files)},
    )
