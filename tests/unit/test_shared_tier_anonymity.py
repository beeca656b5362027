"""The shared tier (exports/shared/): household IDs hashed, person-level marts k-anonymous, and the
non-personal columns dropped only for their name kept (ward/publish/anonymity.py, personal_data.py)."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ward.publish.anonymity import BAND_FROM, BAND_TO, K, anonymise
from ward.publish.exports import export_marts
from ward.publish.keyed_hash import keyed_hash
from ward.publish.personal_data import shared_action

KEY = "k" * 32
PEOPLE = 5_000
SHARED_QI = [BAND_FROM, BAND_TO, "sex", "ethnicity", "relation_to_head", "residence_type",
             "is_resident", "is_alive", "residential_group_no"]  # fmt: skip

# A ward of 5,000 persons in 8 groups, ≈ 1,400 households, shaped like Phù Liễn: 98% Kinh, a head,
# a spouse and children per household, 86% permanent residents, a few dead still listed.
# Deterministic: every draw is a hash of the row number.
PERSONS_SQL = f"""
with draws as (
    select
        i,
        (hash(i, 'year') % 10000) / 10000.0 as u_year,
        hash(i, 'sex') % 2 as u_sex,
        hash(i, 'eth') % 1000 as u_eth,
        hash(i, 'rel') % 1000 as u_rel,
        hash(i, 'res') % 100 as u_res,
        hash(i, 'dead') % 1000 as u_dead
    from range({PEOPLE}) t(i)
)
select
    'P' || lpad(cast(i as varchar), 7, '0') as person_key,
    case when i % 9 = 0 then null else '0310' || lpad(cast(i * 7919 % 100000000 as varchar), 8, '0') end
        as citizen_id,
    'Nguyễn Văn ' || cast(i as varchar) as full_name,
    make_date(cast(2025 - floor(95 * u_year * u_year) as integer), 1 + i % 12, 1 + i % 28) as date_of_birth,
    cast(2025 - floor(95 * u_year * u_year) as integer) as birth_year,
    case when u_sex = 0 then 'M' else 'F' end as sex,
    case when u_eth < 980 then 'Kinh' when u_eth < 988 then 'Tày' when u_eth < 995 then 'Mường'
         else 'Hoa' end as ethnicity,
    case when u_res < 86 then 'thuong_tru' when u_res < 96 then 'tam_tru' else 'tam_vang' end
        as residence_type,
    'HH' || lpad(cast(i // 3.5 as varchar), 6, '0') as household_id,
    case when u_rel < 280 then 'Chủ hộ' when u_rel < 430 then 'Vợ' when u_rel < 470 then 'Chồng'
         when u_rel < 820 then 'Con' when u_rel < 860 then 'Cháu' when u_rel < 900 then 'Mẹ'
         when u_rel < 930 then 'Bố' when u_rel < 950 then 'Con dâu' else 'Khác' end
        as relation_to_head,
    cast(1 + i % 8 as integer) as residential_group_no,
    case when i % 3 = 0 then null else '09' || lpad(cast(i as varchar), 8, '0') end as phone,
    u_dead >= 6 as is_alive,
    u_dead >= 6 and u_res < 96 as is_resident,
    case when i % 50 = 0 then 0.8 else 1.0 end as match_confidence,
    cast(1 as integer) as source_row_count,
    date '2026-10-01' as snapshot_date,
    'day' as date_of_birth_precision,
    'valid_id' as identity_kind
from draws
"""


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """Export a build database holding the synthetic ward; (exports dir, build db)."""
    root = tmp_path_factory.mktemp("shared_tier")
    build_db = root / "build.duckdb"
    with duckdb.connect(str(build_db)) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.dim_citizen as {PERSONS_SQL}")
        con.execute(
            "create table marts.dim_household as select household_id, any_value(residential_group_no) "
            "as residential_group_no, min(person_key) as head_person_key, count(*) as members, "
            "'Bình thường' as household_type, cast(count(*) as integer) as member_count_reported, "
            "date '2026-10-01' as snapshot_date, cast(1 as bigint) as head_count "
            "from marts.dim_citizen group by household_id"
        )
        con.execute(
            "create table marts.mart_data_quality as select * from (values "
            "('citizens', 'du', 'phone_filled', 0.67::double, 'share', null, date '2026-10-01', 5000),"
            "('all', 'song', 'latest_extract_age', 3.0::double, 'days', null, date '2026-10-01', null)"
            ") t(source, dimension, metric, value, unit, residential_group_no, snapshot_date, denominator)"
        )
        con.execute(
            "create table marts.deliveries as select * from (values "
            "('citizens', 'ds_2026-10-01.csv', 'loaded', null, null, date '2026-10-01'),"
            "('citizens', 'ds_x.pdf', 'rejected', 'Tệp citizens/ds_x.pdf không phải tệp CSV', "
            " 'File citizens/ds_x.pdf is not a CSV or .xlsx file', date '2026-10-01')"
            ") t(source, file_name, status, reason_vi, reason_en, extract_date)"
        )
        con.execute(
            "create table marts.findings as select 'citizens' as source, 'citizens/ds.csv' as source_file, "
            "3 as row_number, 'P0000003' as person_key, 'CIT_PHONE_INVALID' as rule, 'phone' as column_name, "
            "'0912' as value, 'Số điện thoại 0912 sai' as reason_vi, 'Phone 0912 is invalid' as reason_en, "
            "cast(2 as integer) as residential_group_no"
        )
    exports = root / "exports"
    export_marts(build_db, exports, KEY, {"dim_citizen": "inputs-1"})
    return exports, build_db


def _manifest(exports) -> dict:
    manifest = json.loads((exports / "shared" / "manifest.json").read_text())
    return {f["file"].removesuffix(".parquet"): f for f in manifest["files"]}


def _classes(table: pa.Table, columns: list[str]) -> list[int]:
    with duckdb.connect() as con:
        con.register("t", table)
        cols = ", ".join(f'"{c}"' for c in columns)
        return [r[0] for r in con.execute(f"select count(*) from t group by {cols}").fetchall()]


def test_every_class_of_quasi_identifiers_holds_k_persons_and_the_manifest_says_k(shared):
    exports, _ = shared
    citizens = pq.read_table(exports / "shared" / "dim_citizen.parquet")
    assert citizens.num_rows == PEOPLE
    sizes = _classes(citizens, SHARED_QI)
    assert min(sizes) >= K
    anonymity = _manifest(exports)["dim_citizen"]["anonymity"]
    assert anonymity["k"] == min(sizes) >= anonymity["k_target"] == K
    assert anonymity["classes"] == len(sizes)
    assert "birth_year" in anonymity["quasi_identifiers"]
    # generalised, not wiped: most persons keep their band, sex and group
    assert citizens[BAND_FROM].null_count < 0.1 * PEOPLE
    assert citizens["sex"].null_count < 0.1 * PEOPLE
    assert citizens["residential_group_no"].null_count < 0.01 * PEOPLE
    assert set(citizens["ethnicity"].drop_null().to_pylist()) <= {"Kinh", "Khác"}
    assert set(citizens["relation_to_head"].drop_null().to_pylist()) <= {"Chủ hộ", "Vợ/Chồng", "Con", "Khác"}
    assert "birth_year" not in citizens.column_names
    assert _manifest(exports)["dim_household"]["anonymity"] is None  # not person-level


def test_household_ids_are_hashed_and_kept_out_of_person_rows(shared):
    exports, build_db = shared
    with duckdb.connect(str(build_db), read_only=True) as con:
        households = [r[0] for r in con.execute("select household_id from marts.dim_household").fetchall()]
    dim_household = pq.read_table(exports / "shared" / "dim_household.parquet")
    hashed = sorted(keyed_hash(KEY.encode(), h) for h in households)
    assert sorted(dim_household["household_id"].to_pylist()) == hashed
    assert "head_person_key" not in dim_household.column_names  # would join a household to its head
    citizens = pq.read_table(exports / "shared" / "dim_citizen.parquet")
    assert not any("household" in c for c in citizens.column_names)


def test_non_personal_columns_named_like_personal_ones_are_kept_per_table(shared):
    exports, _ = shared
    quality = pq.read_table(exports / "shared" / "mart_data_quality.parquet")
    assert sorted(quality["value"].to_pylist()) == [0.67, 3.0]
    deliveries = pq.read_table(exports / "shared" / "deliveries.parquet")
    assert "File citizens/ds_x.pdf is not a CSV or .xlsx file" in deliveries["reason_en"].to_pylist()
    assert "reason_vi" in deliveries.column_names
    findings = pq.read_table(exports / "shared" / "findings.parquet")  # these quote the cell
    assert not {"value", "reason_vi", "reason_en"} & set(findings.column_names)


def test_no_clear_identifier_name_birth_date_phone_or_address_is_shared(shared):
    exports, build_db = shared
    with duckdb.connect(str(build_db), read_only=True) as con:
        clear = {
            str(v)
            for (row) in con.execute(
                "select citizen_id, full_name, phone, household_id, person_key from marts.dim_citizen"
            ).fetchall()
            for v in row
            if v is not None
        }
    for path in (exports / "shared").glob("*.parquet"):
        table = pq.read_table(path)
        for name in table.column_names:
            personal = any(word in name for word in ("name", "phone", "address", "date_of_birth"))
            assert not personal or name in {"file_name", "column_name", "procedure_name"}, (path.name, name)
            if pa.types.is_string(table.schema.field(name).type):
                assert not clear & set(table[name].drop_null().to_pylist()), (path.name, name)
        blob = path.read_bytes()
        assert b"Nguy" not in blob and b"031000" not in blob, path.name


def test_shared_action_is_precise_per_table_and_column():
    assert shared_action("value", "mart_data_quality") == "keep"
    assert shared_action("value", "findings") == "drop"
    assert shared_action("value") == "drop"
    assert shared_action("reason_en", "deliveries") == "keep"
    assert shared_action("reason_en", "findings") == "drop"
    assert shared_action("household_id", "dim_household") == "hash"
    assert shared_action("previous_household_id", "mart_x") == "hash"
    assert shared_action("household_id", "dim_citizen") == "drop"
    assert shared_action("head_person_key", "dim_household") == "drop"
    assert shared_action("head_person_key") == "hash"
    assert shared_action("household_type", "dim_household") == "keep"


def test_a_table_smaller_than_k_is_suppressed_whole_and_says_so():
    table = pa.table({"person_key": ["a", "b"], "birth_year": [1990, 2001], "sex": ["M", "F"]})
    out, report = anonymise(table)
    assert out.column_names == ["person_key", BAND_FROM, BAND_TO, "sex"]
    assert out["sex"].to_pylist() == [None, None] and out[BAND_FROM].to_pylist() == [None, None]
    assert report.k == 2 and report.k_target == K


def test_the_rare_person_is_not_left_alone():
    """One Hoa person among 40 Kinh of one group and age: never a class of 1, row order kept."""
    rows = 41
    table = pa.table({
        "person_key": [f"p{i}" for i in range(rows)],
        "birth_year": [1980 + i % 3 for i in range(rows)],
        "sex": ["M"] * rows,
        "ethnicity": ["Kinh"] * (rows - 1) + ["Hoa"],
        "residential_group_no": [1] * rows,
    })  # fmt: skip
    out, report = anonymise(table)
    assert out["person_key"].to_pylist() == table["person_key"].to_pylist()
    assert min(_classes(out, [BAND_FROM, BAND_TO, "sex", "ethnicity", "residential_group_no"])) >= K
    assert "Hoa" not in out["ethnicity"].to_pylist() and report.k >= K


def test_the_same_marts_give_the_same_shared_bytes_and_new_rules_rewrite_the_set(shared, tmp_path):
    exports, build_db = shared
    first = _manifest(exports)["dim_citizen"]["sha256"]
    again = tmp_path / "again"
    export_marts(build_db, again, KEY)
    assert _manifest(again)["dim_citizen"]["sha256"] == first  # deterministic
    # A shared set written under other rules (before k-anonymity: no "rules") is not reused.
    manifest_path = again / "shared" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.pop("rules")
    for entry in manifest["files"]:
        entry["build_token"] = "inputs-1"
    manifest_path.write_text(json.dumps(manifest))
    old = (again / "shared" / "dim_citizen.parquet").resolve()
    report = export_marts(build_db, again, KEY, {"dim_citizen": "inputs-1"})
    assert not (again / "shared" / "dim_citizen.parquet").samefile(old)
    assert report.shared_tables["dim_citizen"] == PEOPLE
