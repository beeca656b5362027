"""Jobs: the whole ward pipeline, from landing files to published marts."""

from __future__ import annotations

import dagster as dg

ward_pipeline = dg.define_asset_job(
    "ward_pipeline",
    selection=dg.AssetSelection.all(),
    description="Ingest new extracts, stage, validate, model, publish the warehouse and exports.",
)
