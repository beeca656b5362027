"""Ingest: every new file of the landing folder into the raw lake, recorded in the ledger.

The asset keys match the dbt sources (source `landing`), so dbt's staging models hang below them.
A re-delivered file (same bytes) is a no-op; a file that cannot be taken is set aside with a reason
and never stops the others.
"""

import dagster as dg

from orchestration.resources import WardResource
from ward.corrections import ingest_corrections
from ward.ingest.load import ingest_landing
from ward.settings import SOURCES

LANDING_KEYS = {source: dg.AssetKey(["landing", source]) for source in SOURCES}
DELIVERIES_KEY = dg.AssetKey(["landing", "deliveries"])
CORRECTIONS_KEY = dg.AssetKey(["landing", "corrections"])


@dg.multi_asset(
    specs=[
        *(
            dg.AssetSpec(key, group_name="ingest", description=f"Raw {source} rows, all files.")
            for source, key in LANDING_KEYS.items()
        ),
        dg.AssetSpec(DELIVERIES_KEY, group_name="ingest", description="Ledger of every file."),
        dg.AssetSpec(
            CORRECTIONS_KEY,
            group_name="ingest",
            description="Stewards' corrections (landing/corrections/), one row per filled line.",
        ),
    ],
    name="landing_extracts",
)
def landing_extracts(context: dg.AssetExecutionContext, ward: WardResource):
    report = ingest_landing(ward.settings)
    # After the extracts: a correction names a delivered file, which must be in the ledger first.
    corrections = ingest_corrections(ward.settings)
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
    for name, accepted, rejected in corrections.files:
        context.log.info(f"{name}: {accepted} correction(s) taken, {rejected} rejected (marts.corrections)")
    yield dg.MaterializeResult(
        asset_key=CORRECTIONS_KEY,
        metadata={
            "new_files": len(corrections.files),
            "corrections_taken": sum(f[1] for f in corrections.files),
            "lines_rejected": sum(f[2] for f in corrections.files),
        },
    )
