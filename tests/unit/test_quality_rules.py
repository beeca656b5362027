"""Every rule of expectations/rules.yml fires on a planted bad row and stays quiet on a good one.

The staged tables here are built by hand with the columns the staging models publish, so a rule
that names a column the staging layer lacks fails this test (instead of failing silently later).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ward.quality.evaluate import evaluate_rules, record_gx_outcomes, render_reason
from ward.quality.gx_validation import GxWorker, run_gx
from ward.quality.rules import STAGED_MODELS, load_rules
from ward.sources import SOURCES

LOADED = datetime(2026, 10, 1, 8, 0)

GOOD = {
    "citizens": {
        "full_name": "Nguyễn Văn An", "date_of_birth": date(1995, 3, 1),
        "date_of_birth_raw": "01/03/1995", "birth_year": 1995, "sex": "M", "sex_raw": "Nam",
        "residence_type": "thuong_tru", "residence_type_raw": "Thường trú",
        "household_id": "HGD-1", "residential_group_no": 5, "residential_group_raw": "TDP 5",
        "citizen_id": "031095012345", "citizen_id_raw": "031095012345", "citizen_id_status": "valid",
        "phone": "0912345678", "phone_raw": "0912 345 678", "extract_date": date(2026, 10, 1),
        "date_of_death": None, "date_of_death_raw": None, "relation_to_head": "Chủ hộ",
        "relation_to_head_raw": "Chủ hộ",
    },
    "households": {
        "household_id": "HGD-1", "residential_group_no": 5, "residential_group_raw": "Tổ 5",
        "head_citizen_id": "031095012345", "head_citizen_id_raw": "031095012345",
    },
    "service_records": {
        "record_id": "HS-1", "received_date": date(2026, 9, 1), "received_at_raw": "01/09/2026",
        "due_date": date(2026, 9, 5), "due_at_raw": "05/09/2026", "status": "Đã trả kết quả",
        "status_raw": "Đã trả kết quả", "channel": "truc_tuyen", "channel_raw": "Trực tuyến",
        "updated_at": datetime(2026, 9, 4), "updated_at_raw": "04/09/2026",
        "completed_date": date(2026, 9, 4), "completed_at_raw": "04/09/2026",
        "applicant_phone": "0912345678", "applicant_phone_raw": "0912345678",
    },
}  # fmt: skip

# What makes each rule fire (predicate rules); duplicate-row rules are tested on the raw lake.
BAD = {
    "CIT_NAME_MISSING": {"full_name": None},
    "CIT_DOB_INVALID": {"date_of_birth": None, "date_of_birth_raw": "31/02/1990"},
    "CIT_SEX_INVALID": {"sex": None, "sex_raw": "X"},
    "CIT_RESIDENCE_TYPE_INVALID": {"residence_type": None, "residence_type_raw": "Khác"},
    "CIT_HOUSEHOLD_MISSING": {"household_id": None},
    "CIT_GROUP_INVALID": {"residential_group_no": 97, "residential_group_raw": "Tổ 97"},
    "CIT_ID_MISSING": {"citizen_id": None, "citizen_id_raw": None, "citizen_id_status": "missing"},
    "CIT_ID_UNUSABLE": {"citizen_id": None, "citizen_id_raw": "3.1E+11", "citizen_id_status": "scientific"},
    "CIT_ID_BIRTH_YEAR_MISMATCH": {"birth_year": 1987},
    "CIT_ID_SEX_MISMATCH": {"sex": "F", "sex_raw": "Nữ"},
    "CIT_PHONE_INVALID": {"phone": None, "phone_raw": "12345"},
    "CIT_BIRTH_IN_FUTURE": {
        "date_of_birth": date(2027, 1, 1), "birth_year": 2027, "citizen_id": "031227012345",
    },
    "CIT_DEATH_BEFORE_BIRTH": {"date_of_death": date(1990, 1, 1), "date_of_death_raw": "01/01/1990"},
    "CIT_DEATH_AFTER_EXTRACT": {"date_of_death": date(2099, 1, 1), "date_of_death_raw": "01/01/2099"},
    "CIT_RELATION_UNKNOWN": {"relation_to_head": None, "relation_to_head_raw": "Hàng xóm"},
    "HH_ID_MISSING": {"household_id": None},
    "HH_GROUP_INVALID": {"residential_group_no": None, "residential_group_raw": "abc"},
    "HH_HEAD_ID_UNUSABLE": {"head_citizen_id": None, "head_citizen_id_raw": "3.1E+11"},
    "SR_ID_MISSING": {"record_id": None},
    "SR_RECEIVED_INVALID": {"received_date": None, "received_at_raw": "hôm qua"},
    "SR_DUE_INVALID": {"due_date": None, "due_at_raw": ""},
    "SR_STATUS_INVALID": {"status": None, "status_raw": "Đang xem"},
    "SR_CHANNEL_INVALID": {"channel": None, "channel_raw": "Fax"},
    "SR_UPDATED_INVALID": {"updated_at": None, "updated_at_raw": None},
    "SR_COMPLETED_BEFORE_RECEIVED": {"completed_date": date(2026, 8, 1)},
    "SR_FINISHED_WITHOUT_DATE": {"completed_date": None, "completed_at_raw": None},
    "SR_APPLICANT_PHONE_INVALID": {"applicant_phone": None, "applicant_phone_raw": "09"},
}  # fmt: skip


def _stage(con, raw_dir, source: str, rows: list[dict]) -> None:
    frame = pl.DataFrame(
        [
            {
                **row,
                "source_file": f"{source}/a.csv",
                "row_number": i,
                "loaded_at": LOADED,
                "file_sha256": "h1",
            }
            for i, row in enumerate(rows, start=1)
        ]
    )
    schema, table = STAGED_MODELS[source].split(".")
    con.execute(f"create schema if not exists {schema}")
    con.register("frame", frame)
    con.execute(f"create or replace table {schema}.{table} as select * from frame")
    con.unregister("frame")
    # The raw lake the duplicate-row rules read: delivered cells as text.
    raw = pl.DataFrame(
        {
            **{c: [str(row.get(c.replace("_at", "_at_raw"), "x")) for row in rows]
               for c in SOURCES[source].column_names},
            "_source_file": [f"{source}/a.csv"] * len(rows),
            "_file_sha256": ["h1"] * len(rows),
            "_row_number": list(range(1, len(rows) + 1)),
        }
    )  # fmt: skip
    (raw_dir / source).mkdir(parents=True, exist_ok=True)
    raw.write_parquet(raw_dir / source / "h1.parquet")  # the raw lake names a file by its checksum


@pytest.fixture
def evaluated(tmp_path):
    """Row 1 of each source is good; row k+1 is the planted bad row of the k-th rule."""
    rules = load_rules()
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    planted = {}
    for source in STAGED_MODELS:
        rows = [GOOD[source]]
        for rule in (r for r in rules if r.source == source and r.kind == "predicate"):
            rows.append({**GOOD[source], **BAD[rule.code]})
            planted[rule.code] = (f"{source}/a.csv", len(rows))
        rows.append(dict(GOOD[source]))  # an exact copy of row 1
        _stage(con, tmp_path, source, rows)
    results = evaluate_rules(con, tmp_path)
    issues = con.execute("select rule, source_file, row_number, reason_vi from quality.row_issues").fetchall()
    con.close()
    return {r.rule.code: r for r in results}, issues, planted


def test_every_predicate_rule_has_a_planted_row():
    predicate_rules = {r.code for r in load_rules() if r.kind == "predicate"}
    assert predicate_rules == set(BAD)


def test_no_rule_errors(evaluated):
    results, _, _ = evaluated
    assert {code: r.error for code, r in results.items() if r.error} == {}


def test_each_rule_fires_on_its_planted_row_and_not_on_the_good_one(evaluated):
    _, issues, planted = evaluated
    fired = {(rule, f, n) for rule, f, n, _ in issues}
    for code, (source_file, row_number) in planted.items():
        assert (code, source_file, row_number) in fired, code
        assert (code, source_file, 1) not in fired, code


def test_duplicate_rows_are_caught_and_the_first_copy_kept(evaluated):
    _, issues, _ = evaluated
    for code in ("CIT_DUPLICATE_ROW", "HH_DUPLICATE_ROW", "SR_DUPLICATE_ROW"):
        rows = [(n, reason) for rule, _, n, reason in issues if rule == code]
        assert len(rows) >= 1, code
        assert all(n > 1 for n, _ in rows)
        assert any("dòng 1 " in reason for _, reason in rows)


def test_reason_quotes_the_delivered_value(evaluated):
    _, issues, _ = evaluated
    reasons = {rule: reason for rule, _, _, reason in issues}
    assert "3.1E+11" in reasons["CIT_ID_UNUSABLE"]
    assert "Số định danh 031095012345 không khớp năm sinh 1987" in reasons["CIT_ID_BIRTH_YEAR_MISMATCH"]


def test_gx_counts_agree_with_sql(evaluated, tmp_path):
    results, _, _ = evaluated
    build_db = tmp_path / "build.duckdb"
    outcomes, docs = run_gx(build_db, tmp_path / "quality", tuple(r.rule for r in results.values()))
    predicate_codes = {code for code, r in results.items() if r.rule.kind == "predicate"}
    assert set(outcomes) == predicate_codes
    assert {c: o.error for c, o in outcomes.items() if o.error} == {}
    assert {c: o.unexpected_count for c, o in outcomes.items()} == {
        c: results[c].rows_failed for c in predicate_codes
    }
    assert all(o.success is False for o in outcomes.values())  # each rule fired on its planted row
    with duckdb.connect(str(build_db)) as con:
        assert record_gx_outcomes(con, outcomes) == []
    # Data Docs: the index and this validation's page of each source (only these are rendered).
    site = Path(docs).parent
    assert Path(docs).is_file()
    pages = {p.parts[len(site.parts) + 1] for p in (site / "validations").rglob("*.html")}
    assert pages == {f"ward_{r.rule.source}" for r in results.values() if r.rule.kind == "predicate"}


def test_gx_error_is_reported_not_passed(evaluated, tmp_path):
    results, _, _ = evaluated
    broken = replace(results["CIT_NAME_MISSING"].rule, unexpected_when="no_such_column is null")
    outcomes, _ = run_gx(tmp_path / "build.duckdb", tmp_path / "quality2", (broken,))
    assert outcomes["CIT_NAME_MISSING"].error and outcomes["CIT_NAME_MISSING"].success is None


def test_a_rule_that_cannot_run_is_an_error_not_a_pass(tmp_path):
    con = duckdb.connect()
    results = evaluate_rules(con, tmp_path, rules=load_rules()[:1])  # no staged table at all
    assert results[0].error and not results[0].passed


def test_reason_template_rejects_unknown_columns():
    with pytest.raises(KeyError):
        render_reason("{no_such_column}", {"full_name"})


def test_the_build_file_is_free_once_gx_answers_and_its_pages_follow(evaluated, tmp_path):
    """The worker answers once it has closed its connections; it renders the Data Docs while the
    run goes on (a writer can take the build file at once), and closing waits for the pages."""
    results, _, _ = evaluated
    build_db = tmp_path / "build.duckdb"
    worker = GxWorker(build_db, tmp_path / "quality3")
    outcomes, docs = worker.validate(tuple(r.rule for r in results.values()))
    assert {c: o.error for c, o in outcomes.items() if o.error} == {}
    with duckdb.connect(str(build_db)) as con:  # another process would be refused while GX held it
        con.execute("create table written_while_gx_renders as select 1 as x")
    worker.close()
    assert worker._process.returncode == 0
    assert Path(docs).is_file()
    assert any((Path(docs).parent / "validations").rglob("*.html"))
