"""The dbt project end to end on a tiny raw lake (~30 rows with planted dirt).

Both phases run as the pipeline runs them (assets/dbt.py): `dbt build` of models/staging, then the
quality step (ward.quality.evaluate) writes quality.row_issues from the staged tables, then `dbt
build` of models/intermediate and models/marts. The asserts are on the real marts, with figures
worked out by hand from the rows below (see the comments beside them).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import unicodedata
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.fixtures.raw_lake import create_row_issues, write_raw_lake
from ward.identity import resolve_identities
from ward.publish.exports import record_export_state
from ward.quality.evaluate import evaluate_rules
from ward.quality.freshness import record_freshness_thresholds
from ward.settings import DBT_PROJECT_DIR, REFERENCE_DIR, WARD_CODE, Settings

DBT = Path(sys.executable).with_name("dbt")
CIT_A = "citizens/ds_2026-09-01.csv"
CIT_B = "citizens/ds_2026-10-01.csv"
HH = "households/hgd_2026-10-01.csv"
SR_1 = "service_records/hs_2026-09-30.csv"
SR_2 = "service_records/hs_2026-10-15.csv"


def key(identifier: str) -> str:
    """The stable person_key of ward.identity for a 12-digit ID or a 9-digit CMND."""
    kind = "id" if len(identifier) == 12 else "cmnd"
    return hashlib.md5(f"person|{kind}:{identifier}".encode()).hexdigest()[:16]


def citizen(cid, name, dob, sex, residence, household, relation, group, **more):
    return {
        "citizen_id": cid, "full_name": name, "date_of_birth": dob, "sex": sex,
        "residence_type": residence, "household_id": household, "relation_to_head": relation,
        "residential_group": group, **more,
    }  # fmt: skip


CITIZENS = [
    # Snapshot 2026-09-01: three residents of group 1, one absent (Tạm vắng) in group 2.
    citizen("031095012345", "Nguyễn Văn Hoà", "01/03/1995", "Nam", "Thường trú", "HGD-1", "Chủ hộ", "TDP 1",
            phone="0912 345 678", _source_file=CIT_A),
    citizen("031196012346", "Trần Thị Thuý", "1996-05-02", "Nữ", "Thường trú", "HGD-1", "Vợ", "Tổ 1",
            _source_file=CIT_A),
    citizen("031220012347", "Nguyễn Văn Bình", "2020", "nam", "Thường trú", "HGD-1", "Con", "1",
            _source_file=CIT_A),
    citizen("031050012348", "Lê Văn Cường", "10/10/1950", "Nam", "Tạm vắng", "HGD-2", "Chủ hộ",
            "Tổ dân phố số 2", _source_file=CIT_A),
    # Snapshot 2026-10-01, dirty.
    # 1: lost leading zero, upper case + extra spaces, Excel serial (34759 = 1995-03-01), +84 phone
    citizen("31095012345", "NGUYỄN  VĂN HOÀ", "34759", "NAM", "thuong tru", "HGD-1", "chủ hộ",
            "Tổ dân phố số 01", phone="+84 912 345 678", updated_at="2026-09-15", _source_file=CIT_B),
    # 2: NFD text, Nu, old 11-digit phone
    citizen("031196012346", unicodedata.normalize("NFD", "Trần Thị Thuý"), "02/05/1996", "Nu",
            "Thường trú", "HGD-1", "Vợ", "TDP số 01", phone="0162 123 4567", _source_file=CIT_B),
    # 3: partial birth date (a year): counts from 2020-01-01, age 6 on 2026-10-01
    citizen("031220012347", "Nguyễn Văn Bình", "2020", "Nam", "Thường trú", "HGD-1", "Con", "1",
            _source_file=CIT_B),
    # 4: died before the snapshot: neither resident nor absent
    citizen("031050012348", "Lê Văn Cường", "10/10/1950", "Nam", "Tạm vắng", "HGD-2", "Chủ hộ",
            "Tổ dân phố số 2", date_of_death="15/09/2026", _source_file=CIT_B),
    # 5: Tạm trú, tone placement Khoẻ -> Khỏe
    citizen("031301012349", "Phạm Thị Khoẻ", "5/11/2001", "Nữ", "Tạm trú", "HGD-2", "Khác", "TDP 2",
            _source_file=CIT_B),
    # 6: ID in scientific notation: kept, flagged, identified by the row itself (confidence 0.5)
    citizen("3.10950E+11", "Đỗ Văn Hùng", "1960-07-07", "Nam", "Thường trú", "HGD-2", "Chủ hộ", "Tổ 2",
            _source_file=CIT_B),
    # 7: no ID, an old CMND that lost its leading zero; Ð (eth) for Đ
    citizen(None, "Vũ Thị Ðào", "03/1990", "Nữ", "Thường trú", "HGD-2", "Con dâu", "TDP 2",
            legacy_id="12345678", _source_file=CIT_B),
    # 8: exact copy of row 7 -> quarantine (CIT_DUPLICATE_ROW)
    citizen(None, "Vũ Thị Ðào", "03/1990", "Nữ", "Thường trú", "HGD-2", "Con dâu", "TDP 2",
            legacy_id="12345678", _source_file=CIT_B),
    # 9-11: junk -> quarantine: no name; group 97 not in the ward; sex X
    citizen("031099012351", None, "01/01/1999", "Nam", "Thường trú", "HGD-1", "Con", "TDP 1",
            _source_file=CIT_B),
    citizen("031099012352", "Hoàng Văn Quý", "01/01/1999", "Nam", "Thường trú", "HGD-1", "Con", "Tổ 97",
            _source_file=CIT_B),
    citizen("031099012353", "Hoàng Văn Thuyền", "01/01/1999", "X", "Thường trú", "HGD-1", "Con", "TDP 1",
            _source_file=CIT_B),
    # 12: the same person as row 1, updated later: merged, its values win (phone)
    citizen("031095012345", "Nguyễn Văn Hòa", "01/03/1995", "Nam", "Thường trú", "HGD-1", "Chủ hộ", "TDP 1",
            phone="0987.654.321", updated_at="2026-09-20", _source_file=CIT_B),
    # 13: five on the snapshot date (sixth birthday the day after): age_0_5, not 6_14
    citizen("031320012350", "Nguyễn Thị Ngọc", "02/10/2020", "Nữ", "Thường trú", "HGD-1", "Con", "TDP 1",
            _source_file=CIT_B),
]  # fmt: skip

HOUSEHOLDS = [
    {"household_id": "HGD-1", "head_citizen_id": "31095012345", "head_name": "Nguyễn Văn Hoà",
     "address": "1 Phố A", "residential_group": "TDP 1", "member_count": "5", "household_type": "hộ nghèo",
     "_source_file": HH},
    {"household_id": "HGD-2", "head_citizen_id": "3.1E+11", "head_name": "Đỗ Văn Hùng",
     "address": "2 Phố B", "residential_group": "Tổ dân phố số 2", "member_count": "3",
     "household_type": "Bình thường", "_source_file": HH},
    {"household_id": None, "head_name": "Không Rõ", "address": "3 Phố C", "residential_group": "TDP 1",
     "_source_file": HH},
]  # fmt: skip


def dossier(record_id, code, received, due, status, channel, updated, **more):
    return {
        "record_id": record_id, "procedure_code": code, "procedure_name": f"Thủ tục {code}",
        "applicant_name": "Nguyễn Văn An", "received_at": received, "due_at": due, "status": status,
        "channel": channel, "updated_at": updated, **more,
    }  # fmt: skip


SERVICE_RECORDS = [
    dossier("HS-1", "TP-1", "2026-09-02 08:30:00", "10/09/2026", "Đang xử lý", "Trực tuyến", "2026-09-02",
            applicant_id="31095012345", _source_file=SR_1),
    dossier("HS-2", "TP-1", "05/09/2026", "12/09/2026", "Đang xử lý", "Trực tiếp", "2026-09-05",
            _source_file=SR_1),
    dossier("HS-3", "TP-2", "20/09/2026", "25/09/2026", "Mới tiếp nhận", "TRUC TUYEN", "2026-09-20",
            _source_file=SR_1),
    dossier("HS-4", "TP-2", "21/09/2026", "30/09/2026", "Rút hồ sơ", "Bưu chính công ích", "2026-09-22",
            _source_file=SR_1),
    dossier("HS-9", "TP-2", "hôm qua", "30/09/2026", "Mới tiếp nhận", "Trực tiếp", "2026-09-22",
            _source_file=SR_1),  # unreadable receipt date -> quarantine
    # later versions and new dossiers
    dossier("HS-1", "TP-1", "2026-09-02 08:30:00", "10/09/2026", "Đã trả kết quả", "Trực tuyến",
            "2026-09-08 10:00:00", completed_at="2026-09-08", supplement_count="", applicant_id="31095012345",
            _source_file=SR_2),  # on time
    dossier("HS-2", "TP-1", "05/09/2026", "12/09/2026", "Từ chối", "Trực tiếp", "2026-10-01",
            completed_at="01/10/2026", supplement_count="1", _source_file=SR_2),  # refused, late
    dossier("HS-5", "TP-1", "03/10/2026", "10/10/2026", "đã trả kết quả", "Trực tuyến", "2026-10-05",
            completed_at="05/10/2026", supplement_count="2", _source_file=SR_2),  # in time, 2 supplements
    dossier("HS-6", "TP-1", "2026-10-10", "2026-10-20", "Đang xử lý", "Trực tiếp", "2026-10-10",
            _source_file=SR_2),  # open, not yet due
]  # fmt: skip

EXTRA_LEDGER = [
    {"source": "citizens", "file_name": "ds_loi.xlsx", "source_file": "citizens/ds_loi.xlsx",
     "sha256": "f" * 64,
     "extract_date": date(2026, 10, 1), "status": "rejected", "reason_vi": "Không đọc được tệp",
     "reason_en": "Unreadable file", "rows_in": None, "loaded_at": None},
    {"source": "citizens", "file_name": "ds_copy.csv", "source_file": "citizens/ds_copy.csv",
     "sha256": "e" * 64,
     "extract_date": date(2026, 10, 1), "status": "duplicate", "reason_vi": "Trùng tệp ds_2026-10-01.csv",
     "reason_en": "Same bytes as ds_2026-10-01.csv", "rows_in": 13, "loaded_at": None},
]  # fmt: skip


def dbt_env(data_dir: Path, build_db: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WARD_DATA_DIR": str(data_dir),
        "WARD_REFERENCE_DIR": str(REFERENCE_DIR),
        "WARD_BUILD_DB": str(build_db),
        "WARD_CODE": WARD_CODE,
        # a target of its own: never races the project's target/ (Dagster's manifest) or another run
        "DBT_TARGET_PATH": str(data_dir / "dbt_target"),
        "DBT_LOG_PATH": str(data_dir / "dbt_logs"),
    }


def dbt(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DBT), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", env["DBT_TARGET_PATH"], "--log-path", env["DBT_LOG_PATH"]],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ward")
    raw_dir = write_raw_lake(data_dir, CITIZENS, HOUSEHOLDS, SERVICE_RECORDS, EXTRA_LEDGER)
    build_db = data_dir / "build" / "ward.duckdb"
    build_db.parent.mkdir(parents=True)
    env = dbt_env(data_dir, build_db)
    timings = {}
    start = time.perf_counter()
    phase1 = dbt(env, "build", "--selector", "staging")
    timings["staging"] = time.perf_counter() - start
    assert phase1.returncode == 0, phase1.stdout[-5000:]
    with duckdb.connect(str(build_db)) as con:
        results = evaluate_rules(con, raw_dir)
        record_export_state(con, data_dir / "exports")
        record_freshness_thresholds(con, Settings(data_dir=data_dir).freshness_days)
        resolve_identities(con)
    assert {r.rule.code: r.error for r in results if r.error} == {}
    start = time.perf_counter()
    phase2 = dbt(env, "build", "--selector", "downstream")
    timings["downstream"] = time.perf_counter() - start
    assert phase2.returncode == 0, phase2.stdout[-5000:]
    print(f"dbt build timings: {timings}")
    con = duckdb.connect(str(build_db), read_only=True)
    yield con, env, phase2.stdout
    con.close()


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_schemas_are_exact(built):
    con, _, _ = built
    schemas = {r[0] for r in rows(con, "select distinct table_schema from information_schema.tables")}
    assert {"staging", "intermediate", "marts", "quality"} <= schemas
    marts = {
        r[0]
        for r in rows(con, "select table_name from information_schema.tables where table_schema = 'marts'")
    }
    assert marts == {
        "dim_citizen", "dim_household", "mart_population_by_group", "fct_service_record",
        "mart_service_kpis", "mart_data_quality", "deliveries", "findings", "quarantine",
        "fct_residence_event", "mart_population_change", "corrections",
    }  # fmt: skip


def test_no_test_warned_about_row_conservation(built):
    _, _, output = built
    assert "assert_deliveries_conserve_rows" in output
    assert "ERROR=0" in output.replace(" ", "")


def test_staging_cleans_the_dirt(built):
    con, _, _ = built
    got = {
        r[0]: r[1:]
        for r in rows(
            con,
            f"""select row_number, citizen_id, full_name, date_of_birth, sex, residence_type, phone,
                       residential_group_no, legacy_id, citizen_id_status
                from staging.stg_landing__citizens where source_file = '{CIT_B}'""",
        )
    }
    assert got[1] == ("031095012345", "Nguyễn Văn Hòa", date(1995, 3, 1), "M", "thuong_tru", "0912345678", 1,
                      None, "valid")  # fmt: skip
    assert got[2][1] == "Trần Thị Thúy" and got[2][3] == "F" and got[2][5] == "0321234567"
    assert got[5][1] == "Phạm Thị Khỏe" and got[5][4] == "tam_tru"
    assert got[6][0] is None and got[6][8] == "scientific"
    assert got[7][1] == "Vũ Thị Đào" and got[7][2] == date(1990, 3, 1) and got[7][7] == "012345678"
    assert got[11][1] == "Hoàng Văn Thuyền" and got[10][1] == "Hoàng Văn Quý"
    assert got[12][5] == "0987654321"
    assert rows(con, "select count(*) from staging.stg_landing__citizens")[0][0] == len(CITIZENS)


def test_population_by_group(built):
    con, _, _ = built
    cols = (
        "residents, households, male, female, temporary_residents, absent, "
        "age_0_5, age_6_14, age_15_59, age_60_plus"
    )
    got = {
        (r[0], r[1]): r[2:]
        for r in rows(
            con, f"select snapshot_date, residential_group_no, {cols} from marts.mart_population_by_group"
        )
    }
    sep, octo = date(2026, 9, 1), date(2026, 10, 1)
    # 2026-09-01: no households snapshot that day -> households null
    assert got[(sep, 1)] == (3, None, 2, 1, 0, 0, 0, 1, 2, 0)
    assert got[(sep, 2)] == (0, None, 0, 0, 0, 1, 0, 0, 0, 0)
    assert got[(sep, None)] == (3, None, 2, 1, 0, 1, 0, 1, 2, 0)
    # 2026-10-01: group 1 = Hòa (merged from 2 rows), Thúy, Bình (6), Ngọc (5 tomorrow 6);
    # group 2 = Khỏe (tạm trú), Hùng (66, no usable ID), Đào (CMND); Cường died before the snapshot.
    assert got[(octo, 1)] == (4, 1, 2, 2, 0, 0, 1, 1, 2, 0)
    assert got[(octo, 2)] == (3, 1, 1, 2, 1, 0, 0, 0, 2, 1)
    assert got[(octo, None)] == (7, 2, 3, 4, 1, 0, 1, 1, 4, 1)
    assert len(got) == 6


def test_dim_citizen(built):
    con, _, _ = built
    got = {
        r[0]: r[1:]
        for r in rows(
            con,
            """select person_key, citizen_id, full_name, phone, is_alive, is_resident, match_confidence,
                      source_row_count from marts.dim_citizen""",
        )
    }
    assert len(got) == 8
    assert got[key("031095012345")] == ("031095012345", "Nguyễn Văn Hòa", "0987654321", True, True, 1.0, 2)
    assert got[key("031050012348")][3:5] == (False, False)
    assert got[key("012345678")] == (None, "Vũ Thị Đào", None, True, True, 0.99, 1)  # merged by CMND
    row_person = [v for v in got.values() if v[1] == "Đỗ Văn Hùng"]
    assert len(row_person) == 1 and row_person[0][0] is None and row_person[0][5] == 0.5


def test_dim_household(built):
    con, _, _ = built
    got = {
        r[0]: r[1:]
        for r in rows(
            con,
            "select household_id, residential_group_no, head_person_key, members, "
            "household_type, member_count_reported from marts.dim_household",
        )
    }
    hung = rows(con, "select person_key from marts.dim_citizen where full_name = 'Đỗ Văn Hùng'")[0][0]
    assert got == {
        "HGD-1": (1, key("031095012345"), 4, "Hộ nghèo", 5),
        "HGD-2": (2, hung, 3, "Bình thường", 3),
    }


def test_service_records(built):
    con, _, _ = built
    got = {
        r[0]: r[1:]
        for r in rows(
            con,
            """select record_id, status, channel, is_finished, is_on_time, is_overdue, applicant_person_key
               from marts.fct_service_record""",
        )
    }
    assert got == {
        "HS-1": ("Đã trả kết quả", "truc_tuyen", True, True, False, key("031095012345")),
        "HS-2": ("Từ chối", "truc_tiep", True, False, True, None),
        "HS-3": ("Mới tiếp nhận", "truc_tuyen", False, False, True, None),
        "HS-4": ("Rút hồ sơ", "buu_chinh", False, False, False, None),
        "HS-5": ("Đã trả kết quả", "truc_tuyen", True, False, False, None),
        "HS-6": ("Đang xử lý", "truc_tiep", False, False, False, None),
    }


def test_service_kpis_two_months(built):
    con, _, _ = built
    got = {
        (r[0], r[1]): r[2:]
        for r in rows(
            con,
            """select month, procedure_code, received, received_online, finished, finished_on_time,
                      on_time_rate, online_rate, open_overdue_at_month_end from marts.mart_service_kpis""",
        )
    }
    sep, octo = date(2026, 9, 1), date(2026, 10, 1)
    assert set(got) == {(m, p) for m in (sep, octo) for p in ("TP-1", "TP-2", "ALL")}
    assert got[(sep, "TP-1")] == (2, 1, 1, 1, 1.0, 0.5, 1)  # HS-2 open past due on 30/09
    assert got[(sep, "TP-2")] == (2, 1, 0, 0, None, 0.5, 1)  # HS-3; HS-4 withdrawn
    assert got[(sep, "ALL")] == (4, 2, 1, 1, 1.0, 0.5, 2)
    assert got[(octo, "TP-1")] == (2, 1, 2, 0, 0.0, 0.5, 0)  # D = 15/10, the latest extract
    assert got[(octo, "TP-2")] == (0, 0, 0, 0, None, None, 1)  # zero row kept
    assert got[(octo, "ALL")] == (2, 1, 2, 0, 0.0, 0.5, 1)


def test_deliveries_conserve_rows(built):
    con, _, _ = built
    got = {
        r[0]: r[1:]
        for r in rows(
            con, "select source_file, status, rows_in, rows_kept, rows_quarantined from marts.deliveries"
        )
    }
    assert got[CIT_A] == ("loaded", 4, 4, 0)
    assert got[CIT_B] == ("loaded", 13, 9, 4)
    assert got[HH] == ("loaded", 3, 2, 1)
    assert got[SR_1] == ("loaded", 5, 4, 1)
    assert got[SR_2] == ("loaded", 4, 4, 0)
    assert got["citizens/ds_loi.xlsx"] == ("rejected", None, None, None)
    assert got["citizens/ds_copy.csv"] == ("duplicate", 13, None, None)


def test_quarantine_and_findings(built):
    con, _, _ = built
    quarantine = set(rows(con, 'select source_file, row_number, rule, "column", value from marts.quarantine'))
    assert quarantine == {
        (CIT_B, 8, "CIT_DUPLICATE_ROW", "*", None),
        (CIT_B, 9, "CIT_NAME_MISSING", "full_name", None),
        (CIT_B, 10, "CIT_GROUP_INVALID", "residential_group", "Tổ 97"),
        (CIT_B, 11, "CIT_SEX_INVALID", "sex", "X"),
        (HH, 3, "HH_ID_MISSING", "household_id", None),
        (SR_1, 5, "SR_RECEIVED_INVALID", "received_at", "hôm qua"),
    }
    assert rows(con, "select count(*) from marts.quarantine where resolved_at is not null")[0][0] == 0
    findings = {
        (r[0], r[1], r[2]): r[3]
        for r in rows(con, "select source_file, row_number, rule, person_key from marts.findings")
    }
    hung = rows(con, "select person_key from marts.dim_citizen where full_name = 'Đỗ Văn Hùng'")[0][0]
    assert findings[(CIT_B, 6, "CIT_ID_UNUSABLE")] == hung
    assert findings[(CIT_B, 7, "CIT_ID_MISSING")] == key("012345678")
    assert findings[(HH, 2, "HH_HEAD_ID_UNUSABLE")] is None
    assert not any(r[:2] in {(CIT_B, 8), (CIT_B, 9)} for r in findings)  # quarantined rows are not findings


def test_data_quality_scorecard(built):
    con, _, _ = built
    got = {
        (r[0], r[1], r[2], r[3]): r[4]
        for r in rows(
            con, "select source, dimension, metric, residential_group_no, value from marts.mart_data_quality"
        )
    }
    # latest citizens snapshot: 13 rows, 6 with an issue (4 quarantined, 2 flagged)
    assert got[("citizens", "dung", "rows_passing_rules", None)] == pytest.approx(7 / 13)
    # 8 persons, 6 with a valid ID (Hùng's was scientific, Đào had a CMND only)
    assert got[("citizens", "thong_nhat", "citizens_with_valid_id", None)] == pytest.approx(6 / 8)
    assert got[("citizens", "thong_nhat", "citizens_with_valid_id", 1)] == 1.0
    assert got[("all", "dung_chung", "marts_with_rows", None)] == 1.0
    assert got[("service_records", "song", "days_since_latest_extract", None)] >= 0
    assert 0 < got[("citizens", "du", "required_fields_filled", None)] < 1
    assert 0 < got[("citizens", "sach", "rows_without_format_faults", None)] < 1
    assert all(v is None or 0 <= v <= 1 for (_, dim, _, _), v in got.items() if dim != "song")


def test_phase_two_builds_on_an_empty_row_issues(tmp_path):
    """With no issue at all every staged row is kept; the pipeline never needs a non-empty table."""
    raw_dir = write_raw_lake(tmp_path, CITIZENS[:4], HOUSEHOLDS[:2], SERVICE_RECORDS[:4])
    build_db = tmp_path / "build" / "ward.duckdb"
    env = dbt_env(tmp_path, build_db)
    build_db.parent.mkdir()
    assert dbt(env, "run", "--selector", "staging").returncode == 0
    create_row_issues(build_db)
    result = dbt(env, "run", "--selector", "downstream")
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(build_db), read_only=True) as con:
        assert rows(con, "select sum(rows_kept), sum(rows_quarantined) from marts.deliveries") == [(10, 0)]
    assert raw_dir.exists()


def test_dbt_parse_is_clean(tmp_path):
    result = dbt(dbt_env(tmp_path, tmp_path / "ward.duckdb"), "parse", "--warn-error", "--no-partial-parse")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "WARNING" not in result.stdout


def test_a_change_to_a_mart_rebuilds_phase_2_only_a_staging_change_both():
    """Which project files make each dbt phase rebuild whole (assets/dbt.py: _PHASE_FILES)."""
    from assets.dbt import _PHASE_FILES
    from orchestration.resources import DBT_PROJECT_DIR, dbt_project_files

    def folders(phase: str) -> set[str]:
        return {str(p.relative_to(DBT_PROJECT_DIR).parent) for p in dbt_project_files(_PHASE_FILES[phase])}

    staging, downstream = folders("dbt_staging"), folders("dbt_downstream")
    assert "models/staging/landing" in staging and "." in staging  # dbt_project.yml, profiles.yml
    assert not any(f.startswith(("models/marts", "models/intermediate")) for f in staging)
    assert staging < downstream and "models/marts" in downstream


def test_latest_versions_repicked_incrementally_equal_a_full_pick(built, tmp_path):
    """int_service_records__latest_versions re-picks only the dossiers that may have changed: a
    version staged since, a pick no longer kept, a version fewer, a dossier kept without being staged
    again. The result must be the full pick's."""
    _, env, _ = built
    kept = "intermediate.int_service_records__kept_rows"
    picks = "intermediate.int_service_records__latest_versions"
    changes = [
        # HS-1 gets a later version, staged now: its pick moves on
        f"""insert into {kept} select * replace ('sha-new' as file_sha256,
            timestamp '2030-01-01' as staged_at, updated_at + interval 1 day as updated_at)
            from {kept} where record_id = 'HS-1' limit 1""",
        # the picked version of a dossier with several is no longer kept (quarantined since)
        f"""delete from {kept} as k using {picks} as p where p.record_id = (select min(record_id)
            from {picks} where versions > 1) and k.file_sha256 = p.file_sha256
            and k.row_number = p.row_number""",
        # a dossier kept now for the first time, not staged again (a rule changed): a new pick
        f"""insert into {kept} select * replace ('HS-NEW' as record_id, 'sha-old' as file_sha256)
            from {kept} where record_id = 'HS-1' limit 1""",
        # another such dossier loses a version that is not its pick
        f"""delete from {kept} as k where (k.file_sha256, k.row_number) in (select (o.file_sha256,
            o.row_number) from {kept} as o join {picks} as p on o.record_id = p.record_id
            where p.record_id = (select max(record_id) from {picks} where versions > 1)
            and (o.file_sha256, o.row_number) <> (p.file_sha256, p.row_number) limit 1)""",
    ]
    tables = {}
    for mode in ("incremental", "full"):
        build_db = tmp_path / f"{mode}.duckdb"
        shutil.copyfile(env["WARD_BUILD_DB"], build_db)
        with duckdb.connect(str(build_db)) as con:
            before = con.execute(f"select count(*) from {kept}").fetchall()[0][0]
            for sql in changes:
                con.execute(sql)
            assert con.execute(f"select count(*) from {kept}").fetchall()[0][0] == before  # +2 -2
        run_env = {**env, "WARD_BUILD_DB": str(build_db), "DBT_TARGET_PATH": str(tmp_path / mode)}
        args = ["run", "--select", "int_service_records__latest_versions"]
        done = dbt(run_env, *args, *(["--full-refresh"] if mode == "full" else []))
        assert done.returncode == 0, done.stdout[-3000:]
        with duckdb.connect(str(build_db), read_only=True) as con:
            tables[mode] = con.execute(f"select * from {picks} order by record_id").fetchall()
    assert tables["incremental"] == tables["full"]


# ----------------------------------------------------------------------------------- ward_code
LANDING_STAGING = (
    "stg_landing__citizens", "stg_landing__households", "stg_landing__service_records",
    "stg_landing__deliveries", "stg_landing__corrections",
)  # fmt: skip


def test_every_mart_declares_ward_code_from_the_one_macro(built):
    """Each mart of the manifest: ward_code varchar first in its enforced contract, not null,
    an accepted_values test on the var, and its SQL calls macros/ward_code.sql (no literal)."""
    _, env, _ = built
    manifest = json.loads((Path(env["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    nodes = manifest["nodes"].values()
    marts = {
        n["unique_id"]: n for n in nodes if n["resource_type"] == "model" and n["config"]["schema"] == "marts"
    }
    assert len(marts) == 12
    tested = {
        n["attached_node"]
        for n in nodes
        if n["resource_type"] == "test"
        and n.get("column_name") == "ward_code"
        and n["test_metadata"]["name"] == "accepted_values"
        and n["test_metadata"]["kwargs"]["values"] == ["{{ var('ward_code') }}"]  # the configured code
    }
    for uid, node in marts.items():
        assert node["config"]["contract"]["enforced"], uid
        first, column = next(iter(node["columns"].items()))
        assert first == "ward_code" and column["data_type"] == "varchar", uid
        assert {"type": "not_null"} in [{"type": c["type"]} for c in column["constraints"]], uid
        assert "macro.ward.ward_code" in node["depends_on"]["macros"], uid
        assert WARD_CODE not in node["raw_code"], uid
        assert uid in tested, uid
    for name in LANDING_STAGING:
        assert "macro.ward.ward_code" in manifest["nodes"][f"model.ward.{name}"]["depends_on"]["macros"]


def test_every_staged_row_and_mart_carries_the_ward_code(built):
    con, _, _ = built
    tables = rows(
        con,
        """select table_schema, table_name from information_schema.tables
           where table_schema = 'marts' or table_name like 'stg_landing__%'""",
    )
    assert len(tables) == 12 + len(LANDING_STAGING)
    for schema, table in tables:
        (first, data_type) = rows(
            con,
            f"""select column_name, data_type from information_schema.columns
                where table_schema = '{schema}' and table_name = '{table}' and ordinal_position = 1""",
        )[0]
        assert (first, data_type) == ("ward_code", "VARCHAR"), table
        assert rows(con, f"select distinct ward_code from {schema}.{table}") in ([(WARD_CODE,)], []), table
    assert rows(con, "select count(*) from marts.dim_citizen where ward_code = '11446'")[0][0] > 0


def test_the_ward_code_comes_from_the_environment(tmp_path):
    """WARD_CODE (Settings.dbt_env) reaches the SQL with its leading zeros; a bad one stops dbt."""
    env = {**dbt_env(tmp_path, tmp_path / "ward.duckdb"), "WARD_CODE": "00004"}
    done = dbt(env, "compile", "--select", "deliveries", "stg_landing__deliveries")
    assert done.returncode == 0, done.stdout[-3000:]
    compiled = Path(env["DBT_TARGET_PATH"]) / "compiled" / "ward" / "models"
    for path in (compiled / "marts/deliveries.sql", compiled / "staging/landing/stg_landing__deliveries.sql"):
        assert "cast('00004' as varchar) as ward_code" in path.read_text(), path
    refused = dbt({**env, "WARD_CODE": "1144'"}, "compile", "--select", "deliveries")
    assert refused.returncode != 0 and "WARD_CODE is refused" in refused.stdout
