"""History: SCD type 2 snapshots of persons and households, as of citizens extract dates.

After dbt phase 2 (the snapshots read int_persons and int_households), `dbt snapshot` runs once per
citizens extract date not yet taken, oldest first, with that date as dbt's snapshot time (in the
build database's history.snapshot_as_of, read by dbt_project/macros/history/history_as_of.sql).
ward.history decides which dates are pending and when the history must be rebuilt so that it never
depends on the order extracts arrived in. With nothing pending, dbt is not called at all. The
snapshots stay out of dagster-dbt's phases (they select `path:models/...`): one dbt call per date
cannot be one materialisation per dbt node.
"""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.resources import WardResource, dbt_manifest, dbt_target
from ward.duckdb_config import connect_build_db
from ward.history import clear_as_of, plan_snapshots, record_taken, set_as_of, start_rebuild

SNP_PERSONS = dg.AssetKey(["history", "snp_persons"])
SNP_HOUSEHOLDS = dg.AssetKey(["history", "snp_households"])
_INT_PERSONS = dg.AssetKey(["intermediate", "int_persons"])
_INT_HOUSEHOLDS = dg.AssetKey(["intermediate", "int_households"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SNP_PERSONS,
            deps=[_INT_PERSONS],
            group_name="history",
            description="history.snp_persons: one version per person per change, valid from the "
            "citizens extract date that first said it; a closing record when no longer listed.",
        ),
        dg.AssetSpec(
            SNP_HOUSEHOLDS,
            deps=[_INT_PERSONS, _INT_HOUSEHOLDS],
            group_name="history",
            description="history.snp_households: the same, for households as of each citizens "
            "extract date (the latest households snapshot on or before it).",
        ),
    ],
    name="history_snapshots",
)
def history_snapshots(context: dg.AssetExecutionContext, ward: WardResource, dbt: DbtCliResource):
    with connect_build_db(ward.settings) as con:
        plan = plan_snapshots(con)
        if plan.rebuild:
            start_rebuild(con)
    # dbt opens the build database itself: ours is closed while it runs (one writer per file).
    if plan.rebuild:
        context.log.info("history rebuilt from the first extract date (see ward/history.py)")
    try:
        for day in plan.pending:
            context.log.info(f"history as of {day.isoformat()}")
            with connect_build_db(ward.settings) as con:
                set_as_of(con, day)
            with dbt_target(ward.settings, "history") as target_path:  # no --vars: dbt parses nothing
                args = ["snapshot", "--select", "path:snapshots"]
                dbt.cli(args, manifest=dbt_manifest(), target_path=target_path).wait()
            with connect_build_db(ward.settings) as con:
                record_taken(con, day, plan.fingerprints[day])
    finally:
        if plan.pending:
            with connect_build_db(ward.settings) as con:
                clear_as_of(con)
    taken = [day.isoformat() for day in plan.pending]
    for key in (SNP_PERSONS, SNP_HOUSEHOLDS):
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={"dates_taken": dg.MetadataValue.json(taken), "rebuilt": plan.rebuild},
        )
