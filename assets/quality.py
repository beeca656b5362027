"""The quality step between the two dbt phases: evaluate expectations/rules.yml on the staged rows."""

from __future__ import annotations

import dagster as dg
import duckdb

from assets.dbt import staging_key
from orchestration.resources import WardResource
from ward.quality.evaluate import evaluate_rules
from ward.quality.rules import STAGED_MODELS

ROW_ISSUES = dg.AssetKey(["quality", "row_issues"])


@dg.asset(
    key=ROW_ISSUES,
    deps=[staging_key(m.split(".")[1]) for m in STAGED_MODELS.values()],
    group_name="quality",
    description="One row per delivered row × rule it breaks (expectations/rules.yml): "
    "quarantine rules keep the row out of the warehouse, flag rules list it in findings.",
)
def row_issues(context: dg.AssetExecutionContext, ward: WardResource) -> dg.MaterializeResult:
    settings = ward.settings
    with duckdb.connect(str(settings.build_db_path)) as con:
        results = evaluate_rules(con, settings.raw_dir)
        by_outcome = dict(
            con.execute("select outcome, count(*) from quality.row_issues group by 1").fetchall()
        )
    errored = [r for r in results if r.error]
    if errored:
        # A rule that could not run must never look like a pass: stop before the marts are built.
        raise dg.Failure(
            description="Some data rules could not be evaluated; the marts were not rebuilt.",
            metadata={r.rule.code: r.error for r in errored},
        )
    context.log.info(
        f"{len(results)} rules evaluated: {by_outcome.get('quarantine', 0)} quarantine and "
        f"{by_outcome.get('flag', 0)} flag issues"
    )
    return dg.MaterializeResult(
        metadata={
            "rules": len(results),
            "quarantine_issues": by_outcome.get("quarantine", 0),
            "flag_issues": by_outcome.get("flag", 0),
        }
    )
