"""What the steward reads in the Dagster UI: every asset and check described in Vietnamese, then English.

The English of a dbt model is its yml description (dbt_project, unchanged); the Vietnamese is kept
here beside it, one line per model, because dbt has one description field. A model missing from
MODEL_VI gets its layer's Vietnamese line, so a new model never shows up without Vietnamese.
dbt tests get a sentence built from the test's kind and arguments (not_null, unique, ...), or their
own description when the yml gives one. Rule checks quote rules.yml's reason_vi / reason_en with
each `{placeholder}` turned into the name of the staged column that holds the value.

Nothing here imports Dagster definitions: assets/ and orchestration/ both read it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ward.quality.rules import PLACEHOLDER, STAGED_MODELS, Rule


def bilingual(vi: str, en: str) -> str:
    """The one layout of every description: Vietnamese first, English under it (markdown)."""
    return f"{vi.strip()}\n\nEN: {en.strip()}"


SOURCE_VI = {
    "citizens": "Công dân",
    "households": "Hộ gia đình",
    "service_records": "Hồ sơ thủ tục hành chính",
    "all": "Mọi nguồn",
}


# assets defined elsewhere (identity, history, publication): their English stays where they are
# defined, the Vietnamese is put in front when the definitions are composed (orchestration/definitions.py).
ASSET_VI = {
    "identity/row_persons": "Mã người (person_key) của mỗi dòng công dân được giữ: cùng số định danh "
    "hợp lệ là cùng một người; dòng không có số dùng được thì ghép bằng splink; hai số khác nhau không "
    "bao giờ gộp.",
    "identity/applicant_persons": "Mã người nộp của mỗi dòng hồ sơ (theo số định danh, nếu không thì "
    "theo tên và số điện thoại).",
    "identity/review_pairs": "Các cặp có thể là một người nhưng chưa chắc, để cán bộ xem; không bao giờ "
    "tự gộp.",
    "history/snp_persons": "Lịch sử công dân: mỗi thay đổi của một người một phiên bản, có hiệu lực từ "
    "ngày trích xuất công dân đầu tiên ghi nhận nó; có bản ghi đóng khi người đó không còn trong danh sách.",
    "history/snp_households": "Lịch sử hộ gia đình theo mỗi ngày trích xuất công dân.",
    "published/warehouse": "Kho dữ liệu cho cán bộ phân tích (warehouse/ward.duckdb), thay nguyên tệp "
    "một lần.",
    "published/exports": "Các tệp xuất (exports/*.parquet, manifest.json) và exports/shared/ không có "
    "dữ liệu cá nhân.",
}


# dbt sources that no step of ours produces: external assets, described here (English from the manifest)
EXTERNAL_VI = {
    ("identity", "persons"): "Mỗi người một dòng của bước định danh: person_key, số định danh và mã cũ của "
    "cụm; dbt đọc như một nguồn.",
    ("reference", "id_birth_province_codes"): "63 mã ba chữ số mở đầu số định danh 12 chữ số "
    "(data/reference, có nguồn và giấy phép).",
    ("reference", "phone_prefix_2018"): "Đầu số di động 11 số và đầu số 10 số thay thế (chuyển đổi 2018).",
    ("reference", "ethnic_groups"): "Danh mục 54 dân tộc.",
    ("reference", "religions"): "Danh mục tôn giáo (00 = Không).",
}


def external_specs(manifest, existing_keys) -> list:
    """AssetSpecs (not materializable) for the dbt sources above that no asset of ours produces."""
    import dagster as dg

    sources = manifest["sources"].values()
    english = {(n["source_name"], n["name"]): n.get("description") or "" for n in sources}
    return [
        dg.AssetSpec(list(key), description=bilingual(vi, english.get(key) or f"dbt source {'.'.join(key)}."))
        for key, vi in EXTERNAL_VI.items()
        if dg.AssetKey(list(key)) not in existing_keys and key in english
    ]


def with_vietnamese(assets_def):
    """The same assets, each description Vietnamese first (ASSET_VI) then its English; public API only."""

    def translate(spec):
        vi = ASSET_VI.get(spec.key.to_user_string())
        if not vi or (spec.description or "").startswith(vi):
            return spec
        return spec.replace_attributes(description=bilingual(vi, spec.description or ""))

    return assets_def.map_asset_specs(translate)


# dbt models ---------------------------------------------------------------------------------------

LAYER_VI = {
    "staging": "Tầng làm sạch (staging): mỗi dòng nhận được một dòng, đã chuẩn hoá, không bỏ dòng nào.",
    "intermediate": "Bước trung gian (intermediate) giữa dữ liệu đã làm sạch và các bảng công bố.",
    "marts": "Bảng công bố (mart) cho cán bộ và ứng dụng của phường.",
}

MODEL_VI = {
    # staging
    "stg_landing__citizens": "Mọi dòng công dân đã nhận, đã làm sạch. Không bỏ và không gộp dòng nào.",
    "stg_landing__households": "Mọi dòng hộ gia đình đã nhận, đã làm sạch.",
    "stg_landing__service_records": "Mọi phiên bản hồ sơ thủ tục hành chính đã nhận, đã làm sạch.",
    "stg_landing__deliveries": "Sổ giao nhận tệp (ledger), đã định kiểu.",
    "stg_landing__corrections": "Các dòng sửa lỗi cán bộ gửi (landing/corrections/), đã định kiểu.",
    # intermediate
    "int_row_issues__located": "quality.row_issues kèm dòng dữ liệu mà mỗi lỗi nói đến (tệp, ngày trích "
    "xuất, tổ dân phố).",
    "int_quarantined_rows": "Các dòng có ít nhất một lỗi phải cách ly: một dòng cho mỗi (nguồn, tệp, dòng).",
    "int_citizens__kept_rows": "Các dòng công dân không bị cách ly.",
    "int_households__kept_rows": "Các dòng hộ gia đình không bị cách ly.",
    "int_service_records__kept_rows": "Các phiên bản hồ sơ không bị cách ly.",
    "int_citizens__identified": "Dòng công dân được giữ, kèm mã người (person_key) của bước định danh.",
    "int_citizens__duplicate_findings": "Các dòng nhập lặp cùng một người trong một lần trích xuất "
    "(phát hiện CIT_DUPLICATE_PERSON).",
    "int_persons": "Mỗi người một dòng cho mỗi lần trích xuất công dân; mỗi thuộc tính lấy từ bằng chứng tốt "
    "nhất trong các dòng của người đó.",
    "int_persons__compared": "Mỗi người ở hai lần trích xuất công dân liên tiếp, để tìm biến động cư trú.",
    "int_households": "Mỗi hộ một dòng cho mỗi lần trích xuất hộ gia đình.",
    "int_households__findings": "Phát hiện về hộ: số nhân khẩu lệch, không có hoặc có nhiều chủ hộ, "
    "mã hộ không có trong danh sách.",
    "int_service_records__extracts": "Ngày trích xuất hồ sơ mới nhất.",
    "int_service_records__latest_versions": "Phiên bản mới nhất của mỗi hồ sơ.",
    "int_corrections__resolutions": "Mỗi dòng sửa lỗi và kết quả của nó (bị từ chối, bị thay thế, "
    "đã áp dụng).",
    "int_quality__citizens_row_scores": "Các dòng của lần trích xuất công dân mới nhất, đã chấm điểm "
    "chất lượng.",
    "int_quality__households_row_scores": "Các dòng của lần trích xuất hộ mới nhất, đã chấm điểm chất lượng.",
    "int_quality__service_records_row_scores": "Các dòng của lần trích xuất hồ sơ mới nhất, đã chấm điểm.",
    "int_quality__row_scores": "Các dòng của lần trích xuất mới nhất mỗi nguồn, đã chấm điểm cho bảng điểm "
    "chất lượng.",
    # marts
    "dim_citizen": "Mỗi người có trong lần trích xuất công dân mới nhất một dòng; người đã mất vẫn được "
    "liệt kê.",
    "dim_household": "Mỗi hộ của lần trích xuất hộ gia đình mới nhất một dòng.",
    "fct_service_record": "Mỗi hồ sơ thủ tục hành chính một dòng: phiên bản mới nhất.",
    "fct_residence_event": "Mỗi biến động cư trú (sinh, mất, chuyển đến, chuyển đi, đổi hộ, đổi loại cư trú) "
    "giữa hai lần trích xuất công dân.",
    "mart_population_by_group": "Dân số theo tổ dân phố và toàn phường, cho mỗi lần trích xuất công dân.",
    "mart_population_change": "Biến động dân số theo tổ dân phố và tháng.",
    "mart_service_kpis": "Chỉ tiêu giải quyết thủ tục hành chính theo tháng và theo thủ tục.",
    "mart_data_quality": "Bảng điểm chất lượng dữ liệu (đúng, đủ, sạch, sống, thống nhất, dùng chung) của "
    "lần trích xuất mới nhất mỗi nguồn, theo tổ dân phố và toàn phường.",
    "deliveries": "Mỗi tệp đã nhận một dòng (sổ giao nhận): trạng thái, lý do, số dòng nhận, giữ, cách ly.",
    "quarantine": "Mọi dòng kho dữ liệu không nhận, và lý do: một dòng cho mỗi (tệp, dòng, quy tắc).",
    "findings": "Các dòng được giữ nhưng cần cán bộ xem lại (quy tắc loại `flag`).",
    "corrections": "Mỗi dòng đã điền của các bảng sửa lỗi: sửa ô nào, giá trị cũ, giá trị mới, có được "
    "nhận không.",
}


_VIETNAMESE = re.compile("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


def model_description(props: Mapping[str, Any]) -> str:
    """VI then EN. A yml description already written in both ("Tiếng Việt / English") is kept as it is
    (split at its first " / "); an English one gets MODEL_VI's line in front."""
    name = props["name"]
    layer = (props.get("fqn") or ["", ""])[1]
    text = " ".join((props.get("description") or f"dbt model {name}.").split())
    if _VIETNAMESE.search(text):
        vi, _, en = text.partition(" / ")
        return bilingual(vi, en) if en else text
    return bilingual(MODEL_VI.get(name) or LAYER_VI.get(layer, "Mô hình dbt."), text)


# dbt tests ------------------------------------------------------------------------------------------

_SINGULAR_TESTS = {
    "assert_deliveries_conserve_rows": (
        "Không mất dòng nào: với mỗi tệp đã nạp, số dòng nhận = số dòng giữ + số dòng cách ly. "
        "Kiểm tra chặn: nếu sai, không công bố.",
        "Nothing lost: for every loaded file, rows in = rows kept + rows quarantined. "
        "Blocking: when it fails, nothing is published.",
    ),
    "assert_row_issues_point_to_staged_rows": (
        "Mỗi lỗi của bước kiểm tra chất lượng chỉ đến một dòng của một tệp đã nạp.",
        "Every issue of the quality step points to a row of a loaded file.",
    ),
}


def _column(kwargs: Mapping[str, Any]) -> str:
    column = str(kwargs.get("column_name") or "?")
    return f"`{' '.join(column.split())}`"


def _ref_name(expression: str) -> str:
    found = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]\s*\)", expression or "")
    return found.group(1) if found else str(expression)


def dbt_test_description(props: Mapping[str, Any]) -> str:
    """A sentence for a dbt test: its own description if the yml gives one, else built from its kind."""
    blocking = (props.get("config", {}).get("severity") or "error").lower() == "error"
    severity = bilingual(
        "Mức: chặn (lỗi thì không công bố)." if blocking else "Mức: cảnh báo.",
        "Severity: blocking (no publication when it fails)." if blocking else "Severity: warning.",
    )
    own = (props.get("description") or "").strip() or (props.get("meta") or {}).get("description")
    if own:
        return f"{own}\n\n{severity}"
    name = props.get("name", "")
    if name in _SINGULAR_TESTS:
        return f"{bilingual(*_SINGULAR_TESTS[name])}\n\n{severity}"
    metadata = props.get("test_metadata") or {}
    kind, kwargs = metadata.get("name"), metadata.get("kwargs") or {}
    column = _column(kwargs)
    if kind == "not_null":
        text = (f"Cột {column} không được để trống.", f"Column {column} is never null.")
    elif kind == "unique":
        text = (f"Giá trị {column} không trùng nhau.", f"{column} is unique.")
    elif kind == "accepted_values":
        values = ", ".join(str(v) for v in kwargs.get("values") or [])
        text = (f"Cột {column} chỉ nhận các giá trị: {values}.", f"Column {column} only takes: {values}.")
    elif kind == "relationships":
        target = f"`{_ref_name(kwargs.get('to', ''))}.{kwargs.get('field', '?')}`"
        text = (f"Mỗi giá trị của {column} có trong {target}.", f"Every {column} is found in {target}.")
    elif kind == "match_pattern":
        pattern = kwargs.get("pattern", "?")
        text = (f"Cột {column} khớp mẫu `{pattern}`.", f"Column {column} matches `{pattern}`.")
    elif kind == "value_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        text = (f"Cột {column} nằm trong [{low}, {high}].", f"Column {column} lies within [{low}, {high}].")
    else:
        text = (f"Kiểm tra dbt `{name}`.", f"dbt test `{name}`.")
    return f"{bilingual(*text)}\n\n{severity}"


# rule checks (expectations/rules.yml) ---------------------------------------------------------------

OUTCOME_WORDS = {
    "quarantine": ("cách ly: dòng không được dùng", "quarantine: the row is not used"),
    "flag": ("giữ lại, ghi vào danh sách cần xem lại", "kept, listed in findings for review"),
}


def _with_column_names(template: str) -> str:
    """'{citizen_id_raw}' → «citizen_id_raw»: the column that holds the value, not a raw placeholder."""
    return PLACEHOLDER.sub(lambda m: f"«{m.group(1)}»", template).replace("'«", "«").replace("»'", "»")


def result_description(outcome: str, failed: int | None, error: str | None) -> str:
    """A rule check's result in words: a quarantine that fired did what it is for."""
    if error:
        return bilingual(f"Quy tắc không chạy được: {error}", f"The rule could not be evaluated: {error}")
    if not failed:
        return bilingual("Không dòng nào vi phạm.", "No row breaks the rule.")
    if outcome == "quarantine":
        return bilingual(
            f"{failed:,} dòng được cách ly (đúng thiết kế): xem marts.quarantine.",
            f"{failed:,} rows quarantined as designed: see marts.quarantine.",
        )
    return bilingual(
        f"{failed:,} dòng được giữ, cần xem lại: xem marts.findings.",
        f"{failed:,} rows kept, flagged for review: see marts.findings.",
    )


def rule_description(rule: Rule) -> str:
    """rules.yml's reasons with the columns named, what the rule does to a row, and where it reads."""
    vi_outcome, en_outcome = OUTCOME_WORDS.get(rule.outcome, (rule.outcome, rule.outcome))
    columns = sorted(set(PLACEHOLDER.findall(f"{rule.reason_vi} {rule.reason_en}")))
    relation = STAGED_MODELS[rule.source]
    named = ", ".join(f"«{c}»" for c in columns)
    where_vi = f" «…» là giá trị của cột đó trong {relation}." if columns else ""
    where_en = f" «…» is the value of that column in {relation}." if columns else ""
    vi = f"[{vi_outcome}] {_with_column_names(rule.reason_vi)}{where_vi}"
    en = f"[{en_outcome}] {_with_column_names(rule.reason_en)}{where_en}"
    footer = f"Quy tắc / rule `{rule.code}` · chiều / dimension `{rule.dimension}`"
    if named:
        footer += f" · cột / columns {named}"
    return f"{bilingual(vi, en)}\n\n{footer}"


# landing: what the ledger says, on the landing assets ---------------------------------------------


def _ward_midnight(day) -> float:
    from datetime import datetime, time

    from ward.ingest.extract_date import WARD_TZ

    return datetime.combine(day, time(), WARD_TZ).timestamp()


def landing_source_metadata(settings, source: str, files_this_run) -> dict[str, Any]:
    """A landing asset's figures: this run's files, the ledger's totals, and the latest extract date.

    `files_rejected` counts every file of the source set aside so far (the ledger), not only this
    run's: a run that brings nothing new must not read "0 rejected" while files wait in rejected/.
    `dagster/last_updated_timestamp` is the latest loaded extract date (midnight, the ward's time):
    Dagster's freshness check (orchestration/freshness.py) measures the data's age from it, not the
    time of the run.
    """
    import dagster as dg
    import polars as pl

    ledger = pl.read_parquet(settings.ledger_path) if settings.ledger_path.exists() else None
    mine = ledger.filter(pl.col("source") == source) if ledger is not None else None

    def count(status: str) -> int:
        return 0 if mine is None else mine.filter(pl.col("status") == status).height

    loaded = mine.filter(pl.col("status") == "loaded") if mine is not None else None
    latest = loaded["extract_date"].max() if loaded is not None and loaded.height else None
    statuses = dict.fromkeys(
        [*LEDGER_STATUSES, *(() if mine is None else mine["status"].unique().sort().to_list())]
    )
    metadata: dict[str, Any] = {  # the ledger's state first, then what this run brought
        "latest_extract_date": str(latest) if latest else "—",
        **{f"files_{status}": count(status) for status in statuses},
        "new_files_loaded": sum(f.status == "loaded" for f in files_this_run),
        "files_rejected_this_run": sum(f.status == "rejected" for f in files_this_run),
        "files_duplicate_this_run": sum(f.status == "duplicate" for f in files_this_run),
        "files_held_this_run": sum(f.status == "held" for f in files_this_run),
        "rows_in": sum(f.rows_in or 0 for f in files_this_run if f.status == "loaded"),
    }
    if latest:
        metadata["dagster/last_updated_timestamp"] = dg.MetadataValue.timestamp(_ward_midnight(latest))
    return metadata


# The ledger's statuses: every source reports each, 0 included, so that each plots as a line.
LEDGER_STATUSES = ("loaded", "rejected", "duplicate", "held", "superseded", "withdrawn")
LEDGER_STATUS_VI = {
    "loaded": "đã nạp",
    "rejected": "bị từ chối",
    "duplicate": "trùng",
    "held": "tạm giữ",
    "superseded": "đã được thay",
    "withdrawn": "đã rút",
}


def status_line(status: str) -> str:
    """A delivery's status as the steward reads it: `bị từ chối / rejected`."""
    return f"{LEDGER_STATUS_VI.get(status, status)} / {status}"


def status_of(line: str) -> str:
    """The ledger's status back from a status_line (as stored in an earlier table)."""
    return line.rsplit(" / ", 1)[-1]


REJECTED_COLUMNS = (
    ("file", "string"),
    ("reason_vi", "string"),
    ("reason_en", "string"),
    ("seen_at", "string"),
)


def rejected_files_table(settings):
    """Every file set aside (the ledger's `rejected` rows), newest first, as a Dagster table."""
    import dagster as dg
    import polars as pl

    rows = []
    if settings.ledger_path.exists():
        ledger = pl.read_parquet(settings.ledger_path).filter(pl.col("status") == "rejected")
        for r in ledger.sort("loaded_at", descending=True, nulls_last=True).iter_rows(named=True):
            seen = r.get("loaded_at")
            rows.append(
                dg.TableRecord(
                    {
                        "file": r["source_file"],
                        "reason_vi": r.get("reason_vi") or "",
                        "reason_en": r.get("reason_en") or "",
                        "seen_at": seen.strftime("%Y-%m-%d %H:%M") if seen else "",
                    }
                )
            )
    schema = dg.TableSchema(columns=[dg.TableColumn(n, t) for n, t in REJECTED_COLUMNS])
    return dg.MetadataValue.table(rows, schema=schema)


# the quality report: rule results as a static page, readable offline -------------------------------

REPORT_FOLDER = "report"  # under settings.quality_dir; `ward ui` serves this folder only
REPORT_PORT_OFFSET = 1  # the report is served on the UI's port + 1


def report_dir(settings) -> Any:
    return settings.quality_dir / REPORT_FOLDER


def report_url(settings) -> str:
    return f"http://127.0.0.1:{settings.ui_port + REPORT_PORT_OFFSET}/"


_REPORT_SQL = """
    select rule, source, outcome, dimension, rows_checked, rows_failed, rows_checked_now,
           rows_failed_now, sample_rows, error, gx_success, gx_unexpected_count, gx_error
    from quality.rule_results order by source, outcome desc, rule
"""

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:80rem;color:#1d2433;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
p.en,span.en{color:#5b6472}table{border-collapse:collapse;width:100%;margin-top:.5rem}
th,td{border-bottom:1px solid #dfe3ea;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8;font-weight:600}td.n{text-align:right;white-space:nowrap}
.ok{color:#17663a;font-weight:600}.err{color:#b42318;font-weight:600}.q{color:#8a4b00}.f{color:#35558a}
code{font-size:.9em;background:#f3f5f8;padding:0 .2em}td.s{font-size:.85em;overflow-wrap:anywhere}
col.rule{width:12%}col.reason{width:33%}col.n{width:7%}col.fate{width:13%}col.status{width:11%}
"""


def _fate(outcome: str, failed: int | None) -> tuple[str, str, str]:
    """How many rows a rule routed, said as the design: quarantine and findings are not failures."""
    if failed is None:
        return "—", "—", ""
    if failed == 0:
        return "không dòng nào", "no row", ""
    if outcome == "quarantine":
        return (
            f"{failed:,} dòng được cách ly (đúng thiết kế)",
            f"{failed:,} rows quarantined as designed",
            "q",
        )
    return f"{failed:,} dòng được giữ, cần xem lại", f"{failed:,} rows kept, flagged for review", "f"


def _gx_words(row: Mapping[str, Any], rule: Rule | None) -> str:
    if rule is not None and rule.kind != "predicate":
        return "GX: không áp dụng <span class=en>/ not a GX rule</span>"
    if row["gx_error"]:
        return f"<span class=err>GX: {html_escape(row['gx_error'])}</span>"
    if row["gx_unexpected_count"] is None:
        return "GX: chưa kiểm lần này <span class=en>/ not validated this run</span>"
    if row["gx_unexpected_count"] == row["rows_failed_now"]:
        return f"GX: khớp <span class=en>/ agrees</span> ({row['gx_unexpected_count']:,})"
    return f"<span class=err>GX: {row['gx_unexpected_count']:,} ≠ {row['rows_failed_now']:,}</span>"


def html_escape(value: Any) -> str:
    import html

    return html.escape("" if value is None else str(value))


def _has_rule_results(con) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'quality' and table_name = 'rule_results'"
    ).fetchall()
    return bool(found[0][0])


def render_quality_report(con, path, generated_at: str) -> int:
    """Write the rule results of quality.rule_results as one self-contained HTML page (no script, no
    external style: it reads the same offline). Returns the number of rules in it."""
    from pathlib import Path

    from ward.quality.rules import load_rules

    rules = {r.code: r for r in load_rules()}
    rows = []
    if _has_rule_results(con):
        cursor = con.execute(_REPORT_SQL)
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    quarantined = sum(r["rows_failed"] or 0 for r in rows if r["outcome"] == "quarantine")
    flagged = sum(r["rows_failed"] or 0 for r in rows if r["outcome"] == "flag")
    errors = [r for r in rows if r["error"] or r["gx_error"]]
    parts = [
        "<!doctype html><html lang=vi><head><meta charset=utf-8>",
        "<title>Báo cáo quy tắc dữ liệu / Data rules report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Báo cáo quy tắc dữ liệu phường Phù Liễn</h1>",
        "<p class=en>Ward data rules report (expectations/rules.yml)</p>",
        f"<p>Cập nhật / updated: {html_escape(generated_at)} · {len(rows)} quy tắc / rules · "
        f"<span class=q>{quarantined:,} lượt cách ly / quarantine issues</span> · "
        f"<span class=f>{flagged:,} lượt cần xem lại / findings</span> · "
        + (
            f"<span class=err>{len(errors)} quy tắc lỗi / rules in error</span>"
            if errors
            else "<span class=ok>mọi quy tắc đã chạy / every rule ran</span>"
        )
        + "</p>",
        "<p>Cách ly là thiết kế, không phải lỗi của hệ thống: dòng không dùng được nằm trong "
        "<code>marts.quarantine</code> với lý do; dòng cần xem lại nằm trong "
        "<code>marts.findings</code>.</p>",
        "<p class=en>Quarantine is the design, not a failure: rows that cannot be used are in "
        "<code>marts.quarantine</code> with their reason; rows to review are in <code>marts.findings</code>. "
        "Sample positions are file:row, never personal values.</p>",
    ]
    for source in dict.fromkeys(r["source"] for r in rows):
        parts.append(
            f"<h2>{html_escape(SOURCE_VI.get(source, source))} <span class=en>/ {source}</span></h2>"
        )
        parts.append(
            "<table><colgroup><col class=rule><col class=reason><col class=n><col class=fate>"
            "<col class=status><col></colgroup><tr><th>Quy tắc / rule</th><th>Lý do / reason</th>"
            "<th>Dòng đã kiểm / rows checked</th>"
            "<th>Kết quả / outcome</th><th>Trạng thái / status</th><th>Ví dụ / sample rows</th></tr>"
        )
        for r in (r for r in rows if r["source"] == source):
            rule = rules.get(r["rule"])
            vi, en, css = _fate(r["outcome"], r["rows_failed"])
            reason = (
                f"{html_escape(_with_column_names(rule.reason_vi))}<br><span class=en>"
                f"{html_escape(_with_column_names(rule.reason_en))}</span>"
                if rule
                else ""
            )
            status = (
                f"<span class=err>LỖI / ERROR: {html_escape(r['error'])}</span>"
                if r["error"]
                else "<span class=ok>đã chạy / ran</span>"
            )
            checked = "—" if r["rows_checked"] is None else f"{r['rows_checked']:,}"
            parts.append(
                f"<tr><td><code>{html_escape(r['rule'])}</code><br><span class=en>{html_escape(r['outcome'])}"
                f" · {html_escape(r['dimension'])}</span></td><td>{reason}</td><td class=n>{checked}</td>"
                f"<td class={css}>{html_escape(vi)}<br><span class=en>{html_escape(en)}</span></td>"
                f"<td>{status}<br>{_gx_words(r, rule)}</td>"
                f"<td class=s>{'<br>'.join(html_escape(x) for x in (r['sample_rows'] or [])[:3])}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)
    return len(rows)


# the quality step's results, for the rule checks (orchestration/checks.py) ----------------------------

RESULTS_SQL = (
    "select rule, rows_checked, rows_failed, sample_rows, "
    "coalesce(error, gx_error, case when gx_unexpected_count <> rows_failed_now "
    "then 'Great Expectations counted ' || gx_unexpected_count || ' rows' end), "
    "rows_checked_now > 0 or rows_checked = 0 "
    "from quality.rule_results"
)


def results_file(settings) -> Any:
    return settings.quality_dir / "rule_results.json"


def save_rule_results(con, settings) -> None:
    """The quality step's results, for the checks, in a file beside the build database.

    The checks must not open the build database: in a run started from the UI each step is a process,
    and the identity step (then dbt) writes that file while the checks run; DuckDB refuses a reader
    then ("Could not set lock on file").
    """
    rows = {r[0]: list(r[1:]) for r in con.execute(RESULTS_SQL).fetchall()} if _has_rule_results(con) else {}
    path = results_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(rows))
    tmp.replace(path)


def rule_results(settings) -> dict[str, tuple]:
    """rule → (rows_checked, rows_failed, sample_rows, error, evaluated now), from the step's file
    (or the build database, when no quality step of this version has written it)."""
    path = results_file(settings)
    if path.exists():
        return {rule: tuple(values) for rule, values in json.loads(path.read_text()).items()}
    import duckdb

    with duckdb.connect(str(settings.build_db_path), read_only=True) as con:
        return {r[0]: r[1:] for r in con.execute(RESULTS_SQL).fetchall()}
