"""The leaders' page (GET /): server-rendered HTML, charts as inline SVG, Vietnamese first.

Every figure comes from the metric layer (ward/serve/semantic.py) with the caller's scope: a group
leader's page is computed with group_scope set, so other groups' rows are never read, and a leader's
small cells are suppressed exactly as /api/metrics suppresses them.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from html import escape
from typing import Any

import duckdb

from ward.serve import charts
from ward.serve.auth import Principal
from ward.serve.semantic import MetricLayer, Result

# Traffic lights of the scorecard (shares 0..1). Default: green from 98%, amber from 95%, red below.
# records_updated_last_12_months measures how live the records are, not how correct: most people's
# records do not change in a year, so its bar is lower. Documented in docs/serving.md.
DEFAULT_THRESHOLDS = (0.98, 0.95)
THRESHOLDS = {"records_updated_last_12_months": (0.20, 0.10)}

AGE_BANDS = ("0-5", "6-14", "15-59", "60+")
QUALITY_LABELS = {
    "citizens_matched_to_households": ("Khớp với hộ", "matched to a household"),
    "citizens_with_valid_id": ("Số định danh hợp lệ", "valid personal ID"),
    "records_updated_last_12_months": ("Cập nhật trong 12 tháng", "updated in 12 months"),
    "required_fields_filled": ("Đủ trường bắt buộc", "required fields filled"),
    "rows_passing_rules": ("Đạt quy tắc", "rows passing rules"),
    "rows_without_format_faults": ("Đúng định dạng", "no format fault"),
    "households_with_one_head": ("Một chủ hộ", "one head per household"),
}
SOURCE_LABELS = {
    "citizens": "Công dân / Citizens",
    "households": "Hộ gia đình / Households",
    "service_records": "Hồ sơ TTHC / Dossiers",
    "all": "Tất cả / All",
}


def light_state(metric: str, value: float | None) -> str:
    if value is None:
        return "none"
    green, amber = THRESHOLDS.get(metric, DEFAULT_THRESHOLDS)
    return "green" if value >= green else "amber" if value >= amber else "red"


def month_is_partial(month: dt.date, latest_extract: dt.date | None) -> bool:
    """The month of the latest extract is partial unless the extract is of its last day."""
    if latest_extract is None or (month.year, month.month) != (latest_extract.year, latest_extract.month):
        return False
    return latest_extract.day != calendar.monthrange(month.year, month.month)[1]


@dataclass
class PageFigures:
    groups: list[int | None] = field(default_factory=list)  # groups whose rows the page shows
    suppressed: int = 0


def _series(result: Result, name: str, figure: str | None = None) -> tuple[str, str, list, list]:
    m = next(m for m in result.metrics if m.name == name)
    return (
        figure or f"chart_{name}",
        f"{m.label_vi} / {m.label_en}",
        [r[name] for r in result.rows],
        [r[f"{name}_suppressed"] for r in result.rows],
    )


def render_page(
    layer: MetricLayer,
    con: duckdb.DuckDBPyConnection,
    principal: Principal,
    min_cell: int | None,
    today: dt.date | None = None,
) -> tuple[str, PageFigures]:
    scope = principal.personal_group
    today = today or dt.date.today()
    figs = PageFigures()

    def q(metrics: list[str], by: list[str] = (), where: list[str] = ()) -> Result:
        r = layer.query(
            con, metrics, by, where, group_scope=scope, min_cell=min_cell, sees_scope_in_full=True
        )
        figs.suppressed += r.suppressed_cells
        return r

    # Population --------------------------------------------------------------------------------
    by_group = q(["residents", "households", "absent"], ["residential_group_no"])
    ward = None if scope is not None else q(["residents", "households", "absent"])
    snap = q(["residents"], ["snapshot_date"])
    snapshot = snap.rows[-1]["snapshot_date"] if snap.rows else None
    groups = [r["residential_group_no"] for r in by_group.rows]
    figs.groups = list(groups)
    pyr = q(["residents_counted"], ["age_band", "sex"])
    cell = {(r["age_band"], r["sex"]): r for r in pyr.rows}

    def band(sex: str, key: str) -> list[Any]:
        return [
            cell.get((b, sex), {}).get(key, 0 if key == "residents_counted" else False) for b in AGE_BANDS
        ]

    # Change per month --------------------------------------------------------------------------
    change = q(["births", "deaths", "moves_in", "moves_out"], ["month"])

    # Service KPIs (ward-wide: dossiers carry no residential group) ----------------------------
    fresh = q(["latest_extract_date"], ["source"])
    latest = {r["source"]: r["latest_extract_date"] for r in fresh.rows}
    # Ages of the extracts are ward rows (no group): not another group's figures, so no scope.
    ages = layer.query(con, ["days_since_latest_extract"], ["source"])
    age_at_build = {r["source"]: r["days_since_latest_extract"] for r in ages.rows}
    kpis = q(["dossiers_received", "dossiers_finished", "on_time_rate", "dossiers_open_overdue"], ["month"])
    kpis.rows = kpis.rows[-13:]  # the last 13 months: a year and the same month a year before
    partial = [month_is_partial(r["month"], latest.get("service_records")) for r in kpis.rows]
    overdue = q(["dossiers_overdue", "dossiers_overdue_open"], ["procedure_code", "procedure_name"])
    overdue.rows = sorted(
        (r for r in overdue.rows if r["dossiers_overdue"] or r["dossiers_overdue_suppressed"]),
        key=lambda r: (-(r["dossiers_overdue"] or 0), r["procedure_code"]),
    )

    # Scorecard ---------------------------------------------------------------------------------
    score = q(["quality_share"], ["residential_group_no", "source", "quality_metric"])
    score_rows = [r for r in score.rows if r["residential_group_no"] in set(groups)]
    score_ward = None if scope is not None else q(["quality_share"], ["source", "quality_metric"])
    columns = sorted({(r["source"], r["quality_metric"]) for r in score_rows})

    # HTML --------------------------------------------------------------------------------------
    who = f"{escape(principal.name)} ({escape(principal.role)}" + (
        f", tổ {principal.group})" if scope is not None else ")"
    )
    heading_vi = "Phường Phù Liễn — Bảng điều hành" + (f" — Tổ dân phố {scope}" if scope is not None else "")
    heading_en = "Phù Liễn ward — leaders' dashboard" + (
        f" — residential group {scope}" if scope is not None else ""
    )
    parts = [
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(heading_vi)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{escape(heading_vi)}<span class='en'>{escape(heading_en)}</span></h1>",
        f"<p class='meta'>Người xem / Viewer: {who} · Danh sách ngày / Snapshot: "
        f"<b data-figure='snapshot_date'>{escape(str(snapshot))}</b> · "
        + (
            f"Ô dưới {min_cell} được ẩn (&lt;{min_cell}) / cells under {min_cell} are hidden"
            + ("; số liệu của tổ đầy đủ / your group's figures in full" if scope is not None else "")
            if min_cell
            else "Không ẩn ô nhỏ / no cell hidden"
        )
        + " · <a href='/logout'>Đăng xuất / Log out</a></p></header>",
    ]

    # 1. residents by group
    parts.append(section("Nhân khẩu theo tổ dân phố", "Residents by residential group"))
    if ward is not None and ward.rows:
        w = ward.rows[0]
        parts.append(
            "<p class='kpis'>"
            + kpi(
                "ward_residents",
                "Nhân khẩu toàn phường",
                "Residents, whole ward",
                w["residents"],
                w["residents_suppressed"],
                min_cell,
            )
            + kpi(
                "ward_households",
                "Hộ gia đình",
                "Households",
                w["households"],
                w["households_suppressed"],
                min_cell,
            )
            + kpi("ward_absent", "Tạm vắng", "Absent", w["absent"], w["absent_suppressed"], min_cell)
            + "</p>"
        )
    labels = [f"Tổ {g}" for g in groups]
    parts.append(
        charts.grouped_bars(
            labels,
            [_series(by_group, "residents"), _series(by_group, "households")],
            "Nhân khẩu và hộ theo tổ / Residents and households by group",
            min_cell,
            height=260,
        )
    )
    parts.append(
        table(
            ["Tổ / Group", "Nhân khẩu / Residents", "Hộ / Households", "Tạm vắng / Absent"],
            [
                [
                    f"Tổ {r['residential_group_no']}",
                    figure_cell(
                        "residents",
                        str(r["residential_group_no"]),
                        r["residents"],
                        r["residents_suppressed"],
                        min_cell,
                    ),
                    figure_cell(
                        "households",
                        str(r["residential_group_no"]),
                        r["households"],
                        r["households_suppressed"],
                        min_cell,
                    ),
                    figure_cell(
                        "absent",
                        str(r["residential_group_no"]),
                        r["absent"],
                        r["absent_suppressed"],
                        min_cell,
                    ),
                ]
                for r in by_group.rows
            ],
            "residents-by-group",
        )
    )

    # 2. pyramid
    parts.append(section("Tháp dân số (nhóm tuổi × giới tính)", "Population pyramid (age band × sex)"))
    parts.append(
        "<div class='narrow'>"
        + charts.pyramid(
            AGE_BANDS,
            band("M", "residents_counted"),
            band("F", "residents_counted"),
            band("M", "residents_counted_suppressed"),
            band("F", "residents_counted_suppressed"),
            "Tháp dân số / Population pyramid",
            min_cell,
        )
        + "</div>"
    )

    # 3. change per month
    parts.append(section("Biến động nhân khẩu theo tháng", "Population change per month"))
    if change.rows:
        parts.append(
            charts.grouped_bars(
                [r["month"].strftime("%m/%Y") for r in change.rows],
                [_series(change, n) for n in ("births", "deaths", "moves_in", "moves_out")],
                "Sinh, chết, chuyển đến, chuyển đi / Births, deaths, moves",
                min_cell,
                height=240,
            )
        )
    else:
        parts.append("<p>Chưa có hai danh sách liên tiếp / No two consecutive snapshots yet.</p>")

    # 4. service KPIs
    parts.append(
        section(
            "Thủ tục hành chính theo tháng (toàn phường)", "Administrative procedures per month (whole ward)"
        )
    )
    months = [r["month"].strftime("%m/%y") for r in kpis.rows]
    parts.append(
        charts.grouped_bars(
            months,
            [
                _series(kpis, "dossiers_received"),
                _series(kpis, "dossiers_finished"),
                _series(kpis, "dossiers_open_overdue"),
            ],
            "Hồ sơ theo tháng / Dossiers per month",
            min_cell,
            partial=partial,
            height=280,
        )
    )
    parts.append(
        table(
            ["Tháng / Month", "Tỷ lệ đúng hạn / On-time rate"],
            [
                [
                    escape(m) + (" <i>(chưa đủ tháng / partial)</i>" if p else ""),
                    figure_cell(
                        "on_time_rate", m, r["on_time_rate"], r["on_time_rate_suppressed"], min_cell, "share"
                    ),
                ]
                for m, r, p in zip(months, kpis.rows, partial, strict=True)
            ],
            "service-kpis",
            compact=True,
        )
    )
    if any(partial):
        last_dossiers = escape(str(latest.get("service_records")))
        parts.append(
            f"<p class='note'>* Tháng cuối chưa đủ: dữ liệu hồ sơ mới nhất đến ngày {last_dossiers}. "
            f"/ The last month is partial: the latest dossier extract is of {last_dossiers}.</p>"
        )

    # 5. overdue by procedure
    parts.append(
        section("Hồ sơ quá hạn theo thủ tục (toàn phường)", "Overdue dossiers by procedure (whole ward)")
    )
    if overdue.rows:
        parts.append(
            charts.hbars(
                [(r["procedure_code"], f"{r['procedure_code']} {r['procedure_name']}") for r in overdue.rows],
                [_series(overdue, "dossiers_overdue"), _series(overdue, "dossiers_overdue_open")],
                "Hồ sơ quá hạn / Overdue dossiers",
                min_cell,
            )
        )
    else:
        parts.append("<p>Không có hồ sơ quá hạn / No overdue dossier.</p>")

    # 6. scorecard
    parts.append(section("Chất lượng dữ liệu theo tổ", "Data-quality scorecard per residential group"))
    head = ["Tổ / Group"] + [
        f"{escape(SOURCE_LABELS.get(s, s))}<br><b>{escape(QUALITY_LABELS.get(m, (m, ''))[0])}</b>"
        f"<br><small title='{escape(m)}'>{escape(QUALITY_LABELS.get(m, ('', m))[1])}</small>"
        for s, m in columns
    ]
    by_cell = {(r["residential_group_no"], r["source"], r["quality_metric"]): r for r in score_rows}
    body = []
    if score_ward is not None:
        ward_cell = {(r["source"], r["quality_metric"]): r for r in score_ward.rows}
        body.append(
            ["<b>Toàn phường / Ward</b>"]
            + [score_cell("ward", s, m, ward_cell.get((s, m)), min_cell) for s, m in columns]
        )
    for g in groups:
        body.append(
            [f"Tổ {g}"] + [score_cell(str(g), s, m, by_cell.get((g, s, m)), min_cell) for s, m in columns]
        )
    parts.append("<div class='scroll'>" + table(head, body, "scorecard", raw_head=True) + "</div>")
    parts.append(
        "<p class='note'>Xanh ≥ 98%, vàng ≥ 95%, đỏ dưới 95% "
        "(records_updated_last_12_months: xanh ≥ 20%, vàng ≥ 10%). / Green ≥ 98%, amber ≥ 95%, "
        "red below (records_updated_last_12_months: green ≥ 20%, amber ≥ 10%).</p>"
    )

    # 7. freshness
    parts.append(section("Độ mới của dữ liệu theo nguồn", "Freshness per source"))
    parts.append(
        table(
            [
                "Nguồn / Source",
                "Ngày trích xuất mới nhất / Latest extract",
                "Số ngày (khi xây dựng) / Days (at build)",
                "Số ngày đến hôm nay / Days to today",
            ],
            [
                [
                    escape(SOURCE_LABELS.get(s, s)),
                    f"<span data-figure='latest_extract_date' data-key='{escape(s)}'>{escape(str(d))}</span>",
                    f"<span data-figure='days_since_latest_extract' data-key='{escape(s)}'>"
                    f"{charts.fmt(age_at_build.get(s))}</span>",
                    charts.fmt((today - d).days if d else None),
                ]
                for s, d in sorted(latest.items())
            ],
            "freshness",
        )
    )
    parts.append(
        "<footer>Nguồn: kho dữ liệu đã công bố, chỉ đọc; mọi truy cập được ghi nhật ký. "
        "/ Source: the published warehouse, read-only; every access is logged.</footer></body></html>"
    )
    return "".join(parts), figs


def section(vi: str, en: str) -> str:
    return f"<h2>{escape(vi)}<span class='en'>{escape(en)}</span></h2>"


def kpi(figure: str, vi: str, en: str, value: Any, hidden: bool, min_cell: int | None) -> str:
    shown = f"&lt;{min_cell}" if hidden else charts.fmt(value)
    attrs = f"data-figure='{figure}' data-value='{'' if hidden or value is None else value}'"
    return f"<span class='kpi'><b {attrs}>{shown}</b>{escape(vi)}<span class='en'>{escape(en)}</span></span>"


def figure_cell(figure: str, key: str, value: Any, hidden: bool, min_cell: int | None, unit: str = "") -> str:
    if hidden:
        return (
            f"<span data-figure='{figure}' data-key='{escape(key)}' data-value='' data-suppressed='true' "
            f"title='Ẩn vì dưới {min_cell} / hidden: under {min_cell}'>&lt;{min_cell}</span>"
        )
    return (
        f"<span data-figure='{figure}' data-key='{escape(key)}' "
        f"data-value='{'' if value is None else value}'>"
        f"{charts.fmt(value, unit)}</span>"
    )


def score_cell(group: str, source: str, metric: str, row: dict | None, min_cell: int | None) -> str:
    if row is None:
        return "<span class='na'>·</span>"
    key = f"{group}|{source}|{metric}"
    if row["quality_share_suppressed"]:
        return charts.light("none", "ẩn / hidden") + " " + figure_cell("quality", key, None, True, min_cell)
    state = light_state(metric, row["quality_share"])
    return (
        charts.light(state, state)
        + " "
        + figure_cell("quality", key, row["quality_share"], False, min_cell, "share")
    )


def table(
    head: list[str], rows: list[list[str]], css_id: str, raw_head: bool = False, compact: bool = False
) -> str:
    th = "".join(f"<th>{h if raw_head else escape(h)}</th>" for h in head)
    tr = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    css = "compact" if compact else ""
    return f"<table id='{css_id}' class='{css}'><thead><tr>{th}</tr></thead><tbody>{tr}</tbody></table>"


CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:0 16px 32px;color:#222}
h1{font-size:1.5em;margin:16px 0 4px} h2{font-size:1.15em;margin:28px 0 6px;border-bottom:1px solid #ccc}
.en{display:block;font-size:.78em;font-weight:normal;color:#666}
.meta{color:#444;font-size:.9em} .note{color:#555;font-size:.85em}
.kpis{display:flex;gap:28px} .kpi b{display:block;font-size:1.6em}
table{border-collapse:collapse;font-size:.88em;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f3f6f9;text-align:center} td:first-child{text-align:left}
table.compact td{padding:1px 8px} .scroll{overflow-x:auto}
#scorecard{font-size:.8em} #scorecard th{font-weight:normal;min-width:70px}
#scorecard td{white-space:nowrap} .narrow{max-width:560px} .na{color:#aaa}
[data-suppressed]{color:#888} footer{margin-top:28px;color:#666;font-size:.8em}
"""
