"""The quality step between the two dbt phases: evaluate expectations/rules.yml on the staged rows."""

import re
from datetime import datetime

import dagster as dg

from assets.dbt import staging_key
from orchestration.resources import GxResource, WardResource
from orchestration.steward import (
    bilingual,
    render_quality_report,
    report_dir,
    report_url,
    save_rule_results,
)
from ward.duckdb_config import connect_build_db
from ward.ingest.extract_date import WARD_TZ
from ward.publish.exports import record_export_state
from ward.quality.evaluate import evaluate_rules, mark_evaluated, record_gx_outcomes
from ward.quality.freshness import record_freshness_thresholds
from ward.quality.rules import STAGED_MODELS, load_rules

ROW_ISSUES = dg.AssetKey(["quality", "row_issues"])
EXPORT_STATE = dg.AssetKey(["quality", "export_state"])
_EXCEPTION_NAME = re.compile(r"[A-Za-z_][\w.]*(Error|Exception)")
FRESHNESS_THRESHOLDS = dg.AssetKey(["quality", "freshness_thresholds"])


def _now() -> str:
    return datetime.now(WARD_TZ).strftime("%Y-%m-%d %H:%M (ICT)")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ROW_ISSUES,
            deps=[staging_key(m.split(".")[1]) for m in STAGED_MODELS.values()],
            group_name="quality",
            description=bilingual(
                "Mỗi dòng đã nhận × quy tắc nó vi phạm (expectations/rules.yml) một dòng: quy tắc cách ly "
                "giữ dòng ngoài kho dữ liệu, quy tắc `flag` ghi dòng vào danh sách cần xem lại. "
                "Great Expectations kiểm lại cùng các quy tắc. `quality_report`: báo cáo các quy tắc.",
                "One row per delivered row × rule it breaks (expectations/rules.yml): quarantine rules keep "
                "the row out of the warehouse, flag rules list it in findings. Great Expectations validates "
                "the same rules. `quality_report`: the rules' report (served by `ward ui`).",
            ),
        ),
        dg.AssetSpec(
            FRESHNESS_THRESHOLDS,
            group_name="quality",
            description=bilingual(
                "Số ngày tối đa cho tuổi của lần trích xuất mới nhất mỗi nguồn (WARD_FRESHNESS_*_DAYS), "
                "cho bảng điểm.",
                "Days a source's latest extract may age (WARD_FRESHNESS_*_DAYS), for the scorecard.",
            ),
        ),
        dg.AssetSpec(
            EXPORT_STATE,
            group_name="quality",
            description=bilingual(
                "Các tệp xuất mà ứng dụng khác đang đọc được (theo exports/manifest.json).",
                "The exports downstream apps can read now (from exports/manifest.json).",
            ),
        ),
    ],
    name="quality_step",
)
def quality_step(context: dg.AssetExecutionContext, ward: WardResource, gx_worker: GxResource):
    settings = ward.settings
    rules = load_rules()
    gx = gx_worker.worker  # ends with the run (GxResource), rendering its Data Docs meanwhile
    with connect_build_db(settings) as con:
        results = evaluate_rules(con, settings.raw_dir, rules)
        export_rows = record_export_state(con, settings.exports_dir)
        record_freshness_thresholds(con, settings.freshness_days)
    # GX validates the rows this run evaluated: a source with no new rows has nothing to show.
    gx_outcomes, docs = gx.validate(tuple(r.rule for r in results if not r.error and r.rows_checked_now))
    errored = {r.rule.code: r.error for r in results if r.error}
    with connect_build_db(settings) as con:
        disagreeing = record_gx_outcomes(con, gx_outcomes)
        disagreed = "Great Expectations errored or disagreed with the SQL count"
        errored |= dict.fromkeys(disagreeing, disagreed)
        files_evaluated = 0 if errored else mark_evaluated(con)
        by_outcome = dict(
            con.execute("select outcome, count(*) from quality.row_issues group by 1").fetchall()
        )
        # The steward's report of the rules (offline HTML, served by `ward ui`), errors included.
        render_quality_report(con, report_dir(settings) / "index.html", _now())
        save_rule_results(con, settings)  # what the rule checks read (orchestration/checks.py)
    if errored:
        # A rule that could not run must never look like a pass: stop before the marts are built.
        raise dg.Failure(
            description=f"Some data rules could not be evaluated ({error_kinds(errored)}); "
            "the marts were not rebuilt.",
            metadata={**errored, "quality_report": dg.MetadataValue.url(report_url(settings))},
        )
    context.log.info(
        f"{len(results)} rules evaluated on {files_evaluated} new or restaged file(s): "
        f"{by_outcome.get('quarantine', 0)} quarantine and {by_outcome.get('flag', 0)} flag issues in all"
    )
    yield dg.MaterializeResult(asset_key=EXPORT_STATE, metadata={"rows": export_rows})
    yield dg.MaterializeResult(
        asset_key=FRESHNESS_THRESHOLDS, metadata={s: days for s, days in settings.freshness_days}
    )
    yield dg.MaterializeResult(
        asset_key=ROW_ISSUES,
        metadata={
            "rules": len(results),
            "files_evaluated_now": files_evaluated,
            "quarantine_issues": by_outcome.get("quarantine", 0),
            "flag_issues": by_outcome.get("flag", 0),
            # Our own page (ward ui serves it over http); GX's Data Docs need its CDN to render.
            "quality_report": dg.MetadataValue.url(report_url(settings)),
            "gx_data_docs": dg.MetadataValue.path(docs or "not written"),
        },
    )


def error_kinds(errored: dict[str, str]) -> str:
    """How many rules failed with which kind of error, e.g. "12 rules: IO Error": each message up to
    its first colon, and the exception's name if one follows (an engine's message may quote a row's
    values after that, which the console and the run's log must not show)."""
    kinds: dict[str, int] = {}
    for error in errored.values():
        parts = [p.strip() for p in error.split(":")]
        kind = parts[0] or "error"
        if len(parts) > 2 and _EXCEPTION_NAME.fullmatch(parts[1]):
            kind = f"{kind}: {parts[1]}"
        kinds[kind] = kinds.get(kind, 0) + 1
    return "; ".join(f"{n} rule{'s' if n > 1 else ''}: {kind}" for kind, n in sorted(kinds.items()))
