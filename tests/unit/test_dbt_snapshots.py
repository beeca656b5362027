"""The dbt project on snapshots that span several files, run in-process with dbtRunner.

Complements test_dbt_project.py (the CLI, one file per snapshot): here the latest citizens snapshot
comes in two files with the same extract date, a person appears in both (the row updated last
wins), a household's group has nobody listed, and one test feeds phase 2 a hand-written
quality.row_issues. Phase 1 `dbt run --selector staging` (the unit and data tests of staging run
in test_dbt_project.py), the real quality step, then `dbt build --selector downstream` (marts and
their data tests, the conservation test included). Figures are worked out by hand from the rows
below with the definitions of ../shared/extract-spec.md ("What the words mean").
"""

from __future__ import annotations

import hashlib
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.fixtures.raw_lake import create_row_issues, write_raw_lake
from ward import sources
from ward.private_apis import release_duckdb
from ward.settings import DBT_PROJECT_DIR, REFERENCE_DIR, Settings

dbt_runner = pytest.importorskip("dbt.cli.main")

A = "citizens/ds_2026-10-01_to5.csv"  # snapshot 2026-10-01 comes in two files
B = "citizens/ds_2026-10-01_to7.csv"
OLD = "citizens/ds_2026-09-01.csv"
HH = "households/hgd_2026-10-01.csv"
SR1 = "service_records/hs_2026-09-15.csv"
SR2 = "service_records/hs_2026-10-10.csv"


def citizen(source_file, name, cid, dob, sex, rtype, hh, rel, group, **more):
    return {
        "_source_file": source_file, "full_name": name, "citizen_id": cid, "date_of_birth": dob,
        "sex": sex, "residence_type": rtype, "household_id": hh, "relation_to_head": rel,
        "residential_group": group, **more,
    }  # fmt: skip


HOA = dict(full_name="nguyễn  văn hoà", citizen_id="031080001234", date_of_birth="15/06/1980")
CITIZENS = [
    # the older snapshot: three residents of group 5, households unknown on that date
    citizen(OLD, "Nguyễn Văn Hoà", "031080001234", "15/06/1980", "Nam", "Thường trú", "HGD-1", "Chủ hộ", "5"),
    citizen(OLD, "Trần Thị Thuý", "031185001235", "1985", "Nữ", "Thường trú", "HGD-1", "Vợ", "5"),
    citizen(OLD, "Vũ Văn Bình", "031040001238", "1940-01-01", "Nam", "Thường trú", "HGD-2", "Bố", "5"),
    # latest snapshot, file A (group 5)
    citizen(A, HOA["full_name"], HOA["citizen_id"], HOA["date_of_birth"], "NAM", "Thường trú", "HGD-1",
            "Chủ hộ", "TDP 5", phone="+84 912 345 678"),
    citizen(A, "TRẦN THỊ THUÝ", "31185001235", "1985", "NỮ", "thường trú", "HGD-1", "vợ", "Tổ 5",
            phone="0162 123 4567"),  # 11-digit ID (lost zero), partial birth date, old phone prefix
    citizen(A, "Nguyễn Văn An", "031222001236", "03/2022", "nam", "Thường trú", "HGD-1", "Con",
            "TDP số 05"),
    citizen(A, "Lê Văn Khoẻ", "3.10950E+11", "1950-02-01", "Nam", "Tạm trú", "HGD-2", "Chủ hộ",
            "Tổ dân phố số 5"),  # unusable ID: a row-identity person, flagged
    citizen(A, "Phạm Thị Hoa", "031190001237", "01/01/1990", "Nu", "Tạm vắng", "HGD-2", "Khác", "5",
            updated_at="2026-08-01"),  # superseded by her row in file B (updated later)
    citizen(A, "Vũ Văn Bình", "031040001238", "1940-01-01", "Nam", "Thường trú", "HGD-2", "Bố", "5",
            date_of_death="01/09/2026"),  # died before the snapshot date
    citizen(A, None, "031099001239", "1999", "Nam", "Thường trú", "HGD-2", "Con", "5"),  # no name
    citizen(A, HOA["full_name"], HOA["citizen_id"], HOA["date_of_birth"], "NAM", "Thường trú", "HGD-1",
            "Chủ hộ", "TDP 5", phone="+84 912 345 678"),  # exact copy of row 1
    citizen(A, "Đỗ Văn Tâm", "031070001242", "1970", "Nam", "Thường trú", "HGD-2", "Con", "Tổ 97"),
    # latest snapshot, file B (group 7)
    citizen(B, "Phạm Thị Hoa", "031190001237", "01/01/1990", "Nư", "Thường trú", "HGD-3", "Em", "TDP 7",
            updated_at="2026-09-20 10:00:00"),
    citizen(B, "Ðặng Ðức Minh", "031201001240", "36892", "Nam", "Thường trú", "HGD-3", "Chủ hộ", "TDP 7",
            phone="84987654321"),  # Icelandic eth, Excel serial date
    citizen(B, "hoàng thị lan", None, "10/10/2020", "Nữ", "Thường trú", "HGD-3", "Con", "to 7"),
    citizen(B, "Bùi Văn Tư", "031075001241", "1975", "Nam", "Tạm vắng", "HGD-3", "Anh", "7"),
    citizen(B, "Lý Văn X", "031080009999", "1980", "X", "Thường trú", "HGD-3", "Khác", "7"),  # bad sex
]  # fmt: skip

HOUSEHOLDS = [
    {"_source_file": HH, "household_id": "HGD-1", "head_citizen_id": "031080001234",
     "head_name": "Nguyễn Văn Hoà", "address": "1 Phù Liễn", "residential_group": "TDP 5",
     "member_count": "3", "household_type": "hộ nghèo"},
    {"_source_file": HH, "household_id": "HGD-2", "head_citizen_id": "3.1E+11", "head_name": "Lê Văn Khoẻ",
     "address": "2 Phù Liễn", "residential_group": "Tổ 5", "member_count": "4"},
    {"_source_file": HH, "household_id": "HGD-3", "head_citizen_id": "031201001240",
     "head_name": "Đặng Đức Minh", "address": "3 Phù Liễn", "residential_group": "7"},
    {"_source_file": HH, "household_id": "HGD-4", "head_citizen_id": "031060001250",
     "head_name": "Mai Văn Sơn", "address": "4 Phù Liễn", "residential_group": "TDP 9"},
    {"_source_file": HH, "household_id": None, "head_citizen_id": "031060001251", "head_name": "Không Mã",
     "address": "5 Phù Liễn", "residential_group": "9"},
]  # fmt: skip


def dossier(source_file, record_id, code, channel, received, due, status, updated, **more):
    return {
        "_source_file": source_file, "record_id": record_id, "procedure_code": code,
        "procedure_name": {"P01": "Đăng ký khai sinh", "P02": "Chứng thực bản sao"}[code],
        "applicant_name": "Người nộp", "channel": channel, "received_at": received, "due_at": due,
        "status": status, "updated_at": updated, **more,
    }  # fmt: skip


SERVICE_RECORDS = [
    dossier(SR1, "HS-1", "P01", "Trực tuyến", "2026-09-01 08:30:00", "05/09/2026", "Đã trả kết quả",
            "2026-09-04", completed_at="2026-09-04", applicant_id="31080001234", digitized="Có"),
    dossier(SR1, "HS-2", "P01", "Trực tiếp", "02/09/2026", "2026-09-10", "Đang xử lý", "2026-09-03"),
    dossier(SR1, "HS-3", "P02", "TRUC TIEP", "2026-09-05", "2026-09-06", "Yêu cầu bổ sung", "2026-09-05",
            supplement_count="1"),
    dossier(SR1, "HS-4", "P02", "Bưu chính công ích", "2026-09-10", "2026-09-20", "Rút hồ sơ",
            "2026-09-11"),
    dossier(SR1, "HS-9", "P02", "Trực tiếp", "2026-09-10", "2026-09-20", "Đang xem", "2026-09-11"),
    dossier(SR2, "HS-2", "P01", "Trực tiếp", "02/09/2026", "2026-09-10", "Đã trả kết quả", "2026-10-02",
            completed_at="2026-10-02"),  # finished late
    dossier(SR2, "HS-3", "P02", "Trực tiếp", "2026-09-05", "2026-09-06", "Từ chối", "2026-09-07",
            completed_at="2026-09-06", supplement_count="2"),  # in time, but two supplements
    dossier(SR2, "HS-5", "P01", "Trực tuyến", "2026-10-01", "2026-10-05", "Mới tiếp nhận", "2026-10-01"),
    dossier(SR2, "HS-6", "P02", "Trực tiếp", "2026-10-05", "2026-10-20", "Đang xử lý", "2026-10-05"),
]  # fmt: skip

EXTRA_LEDGER = [
    {"source": "citizens", "file_name": "ds_hong.xlsx", "source_file": "citizens/ds_hong.xlsx",
     "sha256": "f" * 64, "status": "rejected", "reason_vi": "Không đọc được tệp", "reason_en": "Unreadable"},
    {"source": "citizens", "file_name": "ds_copy.csv", "source_file": "citizens/ds_copy.csv",
     "sha256": "e" * 64, "extract_date": date(2026, 10, 1), "status": "duplicate",
     "reason_vi": "Trùng tệp", "reason_en": f"Same bytes as {A}", "rows_in": 9},
]  # fmt: skip


def person_key(citizen_id: str) -> str:
    """The stable key of the person with this valid ID (ward.identity)."""
    return hashlib.md5(f"person|id:{citizen_id}".encode()).hexdigest()[:16]


def dbt(*args: str, target: Path):
    """Run dbt in-process; returns the dbtRunnerResult (fails the test with dbt's message)."""
    try:
        result = dbt_runner.dbtRunner().invoke(
            [
                *args,
                "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                "--target-path", str(target / "target"), "--log-path", str(target / "logs"), "--quiet",
            ]
        )  # fmt: skip
    finally:
        # dbt-duckdb keeps the build file open in this process after invoke(), which could then not
        # open it again read-only ("... with a different configuration").
        release_duckdb()
    if not result.success:
        failed = [
            f"{r.node.unique_id}: {r.status} {r.message}"
            for r in getattr(result.result, "results", None) or []
            if str(r.status) in ("error", "fail")
        ]
        pytest.fail(f"dbt {' '.join(args)} failed: {result.exception or failed}")
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Both phases on the tiny lake; returns (connection to the build db, seconds per phase)."""
    root = tmp_path_factory.mktemp("dbt")
    data_dir, build_db = root / "data", root / "build" / "ward.duckdb"
    write_raw_lake(data_dir, CITIZENS, HOUSEHOLDS, SERVICE_RECORDS, EXTRA_LEDGER)
    build_db.parent.mkdir(parents=True)
    env = {"WARD_DATA_DIR": str(data_dir), "WARD_REFERENCE_DIR": str(REFERENCE_DIR),
           "WARD_BUILD_DB": str(build_db)}  # fmt: skip
    timings = {}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        started = time.perf_counter()
        dbt("run", "--selector", "staging", target=root)
        timings["phase 1"] = time.perf_counter() - started

        from ward.identity import resolve_identities
        from ward.publish.exports import record_export_state
        from ward.quality.evaluate import evaluate_rules
        from ward.quality.freshness import record_freshness_thresholds

        with duckdb.connect(str(build_db)) as con:
            errors = {r.rule.code: r.error for r in evaluate_rules(con, data_dir / "raw") if r.error}
            record_export_state(con, data_dir / "exports")
            record_freshness_thresholds(con, Settings(data_dir=data_dir).freshness_days)
            resolve_identities(con)
        assert errors == {}, "the staged columns do not fit expectations/rules.yml"

        started = time.perf_counter()
        dbt("build", "--selector", "downstream", target=root)
        timings["phase 2"] = time.perf_counter() - started
    con = duckdb.connect(str(build_db), read_only=True)
    yield con, timings
    con.close()


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


# ------------------------------------------------------------------------------------ the build
def test_both_phases_build_quickly(built):
    _, timings = built
    assert sum(timings.values()) < 60, timings


def test_schemas_are_exactly_staging_intermediate_marts(built):
    con, _ = built
    schemas = {s for (s,) in rows(con, "select distinct table_schema from information_schema.tables")}
    assert {"staging", "intermediate", "marts", "quality"} <= schemas
    assert not {s for s in schemas if s.startswith("main_")}


# ---------------------------------------------------------------------------------- staging
def test_staging_keeps_every_raw_row_and_cleans_it(built):
    con, _ = built
    assert rows(con, "select count(*) from staging.stg_landing__citizens") == [(len(CITIZENS),)]
    staged = "staging.stg_landing__citizens"
    cleaned = dict(rows(con, f"select full_name_raw, full_name from {staged} where source_file = '{A}'"))
    assert cleaned["nguyễn  văn hoà"] == "Nguyễn Văn Hòa"
    assert cleaned["TRẦN THỊ THUÝ"] == "Trần Thị Thúy"
    assert cleaned["Lê Văn Khoẻ"] == "Lê Văn Khỏe"
    thuy = rows(
        con,
        "select citizen_id, citizen_id_status, date_of_birth, date_of_birth_precision, phone, sex, "
        f"residential_group_no from {staged} where source_file = '{A}' and row_number = 2",
    )
    assert thuy == [("031185001235", "valid", date(1985, 1, 1), "year", "0321234567", "F", 5)]
    minh = rows(
        con,
        f"select full_name, date_of_birth, phone from {staged} where source_file = '{B}' and row_number = 2",
    )
    assert minh == [("Đặng Đức Minh", date(2001, 1, 1), "0987654321")]


# ------------------------------------------------------------------------------- population
def test_population_by_group(built):
    con, _ = built
    got = {
        (r[0], r[1]): r[2:]
        for r in rows(
            con,
            "select snapshot_date, residential_group_no, residents, households, male, female, "
            "temporary_residents, absent, age_0_5, age_6_14, age_15_59, age_60_plus "
            "from marts.mart_population_by_group",
        )
    }
    oct1, sep1 = date(2026, 10, 1), date(2026, 9, 1)
    assert got == {
        # Hòa (46), Thúy (41, partial birth date), An (4), Khỏe (76, Tạm trú); Bình died on 1/9
        (oct1, 5): (4, 2, 3, 1, 1, 0, 1, 0, 2, 1),
        # Hoa (her later row: Thường trú in group 7), Minh (25), Lan (5 on 1/10: 6 only on 10/10);
        # Tư is Tạm vắng
        (oct1, 7): (3, 1, 1, 2, 0, 1, 1, 0, 2, 0),
        (oct1, 9): (0, 1, 0, 0, 0, 0, 0, 0, 0, 0),  # a household, nobody listed
        (oct1, None): (7, 4, 4, 3, 1, 1, 2, 0, 4, 1),
        # the older snapshot: no households snapshot of that date
        (sep1, 5): (3, None, 2, 1, 0, 0, 0, 0, 2, 1),
        (sep1, None): (3, None, 2, 1, 0, 0, 0, 0, 2, 1),
    }


def test_dim_citizen_one_row_per_person_of_the_latest_snapshot(built):
    con, _ = built
    people = {
        r[0]: r[1:]
        for r in rows(
            con,
            "select full_name, person_key, citizen_id, residence_type, household_id, is_alive, "
            "is_resident, match_confidence, source_row_count, phone from marts.dim_citizen",
        )
    }
    assert set(people) == {
        "Nguyễn Văn Hòa", "Trần Thị Thúy", "Nguyễn Văn An", "Lê Văn Khỏe", "Phạm Thị Hoa",
        "Vũ Văn Bình", "Đặng Đức Minh", "Hoàng Thị Lan", "Bùi Văn Tư",
    }  # fmt: skip
    assert people["Nguyễn Văn Hòa"][:2] == (person_key("031080001234"), "031080001234")
    assert people["Nguyễn Văn Hòa"][-1] == "0912345678"
    # two rows, one ID: the values of the row updated last
    assert people["Phạm Thị Hoa"][2:] == ("thuong_tru", "HGD-3", True, True, 1.0, 2, None)
    assert people["Vũ Văn Bình"][4:6] == (False, False)
    assert people["Lê Văn Khỏe"][1] is None and people["Lê Văn Khỏe"][6] == 0.5


def test_person_keys_are_stable_across_snapshots(built):
    con, _ = built
    keys = rows(
        con,
        "select snapshot_date, person_key from intermediate.int_persons where citizen_id = '031080001234'",
    )
    assert {k for _, k in keys} == {person_key("031080001234")} and len(keys) == 2


def test_dim_household(built):
    con, _ = built
    got = {
        r[0]: r[1:]
        for r in rows(
            con,
            "select household_id, residential_group_no, head_person_key, members, household_type, "
            "member_count_reported, head_count from marts.dim_household",
        )
    }
    assert got["HGD-1"] == (5, person_key("031080001234"), 3, "Hộ nghèo", 3, 1)
    assert got["HGD-3"][1:3] == (person_key("031201001240"), 3)
    assert got["HGD-4"] == (9, None, 0, None, None, 0)
    assert set(got) == {"HGD-1", "HGD-2", "HGD-3", "HGD-4"}


# ---------------------------------------------------------------------------------- services
def test_fct_service_record_latest_versions(built):
    con, _ = built
    got = {
        r[0]: r[1:]
        for r in rows(
            con,
            "select record_id, status, is_finished, is_on_time, is_overdue, applicant_person_key "
            "from marts.fct_service_record",
        )
    }
    assert got == {
        "HS-1": ("Đã trả kết quả", True, True, False, person_key("031080001234")),
        "HS-2": ("Đã trả kết quả", True, False, True, None),
        "HS-3": ("Từ chối", True, False, False, None),
        "HS-4": ("Rút hồ sơ", False, False, False, None),
        "HS-5": ("Mới tiếp nhận", False, False, True, None),
        "HS-6": ("Đang xử lý", False, False, False, None),
    }


def test_service_kpis_for_a_two_month_span(built):
    con, _ = built
    got = {
        (r[0], r[1]): r[2:]
        for r in rows(
            con,
            "select month, procedure_code, received, received_online, finished, finished_on_time, "
            "on_time_rate, online_rate, open_overdue_at_month_end from marts.mart_service_kpis",
        )
    }
    sep, oct_ = date(2026, 9, 1), date(2026, 10, 1)
    assert got == {
        (sep, "P01"): (2, 1, 1, 1, 1.0, 0.5, 1),  # HS-2 open past due at 30/9
        (sep, "P02"): (2, 0, 1, 0, 0.0, 0.0, 0),  # HS-3 refused in time but after 2 supplements
        (sep, "ALL"): (4, 1, 2, 1, 0.5, 0.25, 1),
        (oct_, "P01"): (1, 1, 1, 0, 0.0, 1.0, 1),  # HS-2 finished late; HS-5 past due at 10/10
        (oct_, "P02"): (1, 0, 0, 0, None, 0.0, 0),  # rates null when nothing to divide by
        (oct_, "ALL"): (2, 1, 1, 0, 0.0, 0.5, 1),
    }


# ---------------------------------------------------------------------- deliveries and quality
def test_deliveries_conserve_rows(built):
    con, _ = built
    got = {
        r[0]: r[1:]
        for r in rows(
            con, "select source_file, status, rows_in, rows_kept, rows_quarantined from marts.deliveries"
        )
    }
    assert got[A] == ("loaded", 9, 6, 3)  # no name, exact copy, group 97
    assert got[B] == ("loaded", 5, 4, 1)  # sex X
    assert got[HH] == ("loaded", 5, 4, 1)
    assert got[SR1] == ("loaded", 5, 4, 1)
    assert got[SR2] == ("loaded", 4, 4, 0)
    assert got["citizens/ds_hong.xlsx"] == ("rejected", None, None, None)
    assert got["citizens/ds_copy.csv"] == ("duplicate", 9, None, None)


def test_quarantine_and_findings(built):
    con, _ = built
    quarantined = set(rows(con, "select source_file, row_number, rule from marts.quarantine"))
    assert quarantined == {
        (A, 7, "CIT_NAME_MISSING"), (A, 8, "CIT_DUPLICATE_ROW"), (A, 9, "CIT_GROUP_INVALID"),
        (B, 5, "CIT_SEX_INVALID"), (HH, 5, "HH_ID_MISSING"), (SR1, 5, "SR_STATUS_INVALID"),
    }  # fmt: skip
    findings = {
        (r[0], r[1], r[2]): r[3]
        for r in rows(con, "select source_file, row_number, rule, person_key from marts.findings")
    }
    assert (A, 4, "CIT_ID_UNUSABLE") in findings and findings[(A, 4, "CIT_ID_UNUSABLE")] is not None
    assert (B, 3, "CIT_ID_MISSING") in findings
    assert (HH, 2, "HH_HEAD_ID_UNUSABLE") in findings and findings[(HH, 2, "HH_HEAD_ID_UNUSABLE")] is None
    assert not {k for k in findings if (k[0], k[1]) in {(q[0], q[1]) for q in quarantined}}
    assert rows(con, "select count(*) from marts.quarantine where resolved_at is not null") == [(0,)]


def test_data_quality_scorecard(built):
    con, _ = built
    got = {
        (r[0], r[1], r[2], r[3]): r[4]
        for r in rows(
            con,
            "select source, dimension, metric, residential_group_no, value from marts.mart_data_quality",
        )
    }
    assert got[("all", "dung_chung", "marts_with_rows", None)] == 1.0
    assert got[("citizens", "thong_nhat", "citizens_with_valid_id", None)] == pytest.approx(7 / 9)
    assert got[("households", "thong_nhat", "households_with_one_head", None)] == pytest.approx(3 / 4)
    # latest citizens snapshot: 14 rows; 4 quarantined, Khỏe's and Lan's IDs flagged
    assert got[("citizens", "dung", "rows_passing_rules", None)] == pytest.approx(8 / 14)
    # unreadable cells: Khỏe's ID (3.10950E+11) and sex X; group 97 reads fine (it is just not ours)
    assert got[("citizens", "sach", "rows_without_format_faults", None)] == pytest.approx(12 / 14)
    assert 0 < got[("citizens", "du", "required_fields_filled", 5)] < 1
    assert got[("service_records", "song", "days_since_latest_extract", None)] >= 0
    assert {k[1] for k in got} == {"dung", "du", "sach", "song", "thong_nhat", "dung_chung"}


# -------------------------------------------------------------------- project-level contracts
def test_dbt_vars_hold_the_extract_contract():
    """The enumerations and column lists in dbt_project.yml are those of ward/sources.py."""
    project_vars = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    for name, source in sources.SOURCES.items():
        assert project_vars["ward_canonical_columns"][name] == source.column_names
        assert project_vars["ward_required_columns"][name] == source.required_columns
    assert project_vars["ward_relations"] == list(sources.RELATIONS)
    assert project_vars["ward_marital_statuses"] == list(sources.MARITAL_STATUSES)
    assert project_vars["ward_household_types"] == list(sources.HOUSEHOLD_TYPES)
    assert project_vars["ward_statuses"] == list(sources.STATUSES)
    assert project_vars["ward_finished_statuses"] == list(sources.FINISHED_STATUSES)
    assert project_vars["ward_withdrawn_status"] == sources.WITHDRAWN_STATUS
    for mapping, var in (
        (sources.SEXES, "ward_sex_codes"),
        (sources.RESIDENCE_TYPES, "ward_residence_type_codes"),
        (sources.CHANNELS, "ward_channel_codes"),
    ):
        assert mapping.items() <= project_vars[var].items(), var


def test_phase_two_reads_a_given_row_issues_table(tmp_path, monkeypatch):
    """quality.row_issues written by hand (no quality step): a quarantined row leaves the persons."""
    data_dir, build_db = tmp_path / "data", tmp_path / "ward.duckdb"
    write_raw_lake(data_dir, CITIZENS[:2], [], [])
    for name, value in {"WARD_DATA_DIR": data_dir, "WARD_REFERENCE_DIR": REFERENCE_DIR,
                        "WARD_BUILD_DB": build_db}.items():  # fmt: skip
        monkeypatch.setenv(name, str(value))
    dbt("run", "--selector", "staging", target=tmp_path)
    create_row_issues(
        build_db,
        [{"source": "citizens", "source_file": OLD, "row_number": 2, "rule": "CIT_X",
          "column_name": "sex", "value": "Nữ", "outcome": "quarantine"}],
    )  # fmt: skip
    dbt("build", "--selector", "downstream", target=tmp_path)
    with duckdb.connect(str(build_db), read_only=True) as con:
        assert rows(con, "select full_name from marts.dim_citizen") == [("Nguyễn Văn Hòa",)]
        assert rows(con, "select rows_in, rows_kept, rows_quarantined from marts.deliveries") == [(2, 1, 1)]
        assert rows(con, "select count(*) from marts.fct_service_record") == [(0,)]
        assert rows(con, "select count(*) from marts.mart_service_kpis") == [(0,)]
