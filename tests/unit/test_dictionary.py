"""The data dictionary: every mart and every column described in Vietnamese and English, once, in
dbt_project/models/marts/*.yml, and found again as DuckDB comments in the warehouse, as
`description` in the exports' manifests and in the dbt docs site (ward/publish/dictionary.py)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.fixtures.pipeline import run_ward
from ward.generate import generate_ward
from ward.publish.dictionary import (
    DOCS_FILES,
    SEPARATOR,
    column_comments,
    describe_schema,
    docs_dir,
    split_description,
    table_comments,
    undescribed,
)
from ward.publish.personal_data import shared_action
from ward.settings import DBT_PROJECT_DIR, Settings

MARTS_DIR = DBT_PROJECT_DIR / "models" / "marts"
VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE
)
ALL_PROCEDURES = "Tất cả thủ tục"


def _mart_models() -> dict[str, dict]:
    models = {}
    for path in sorted(MARTS_DIR.glob("*.yml")):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            models[model["name"]] = model
    return models


def _normal(text: str | None) -> str:
    return " ".join((text or "").split())


def _vietnamese_share(text: str) -> float:
    words = text.split()
    return sum(bool(VIETNAMESE.search(w)) for w in words) / max(len(words), 1)


def _assert_bilingual(where: str, description: str | None) -> None:
    assert description, f"{where}: no description"
    vi, en = split_description(description)  # exactly one " / "
    assert VIETNAMESE.search(vi), f"{where}: the part before {SEPARATOR!r} is not Vietnamese: {vi!r}"
    # English may quote Vietnamese values (Tạm trú, Chủ hộ); it is still mostly plain ASCII words
    assert _vietnamese_share(en) < _vietnamese_share(vi), f"{where}: after {SEPARATOR!r} is not English"
    assert re.search(r"[A-Za-z]{2,}", VIETNAMESE.sub("", en)), where


# ------------------------------------------------------------------------------ the yml, the source
def test_every_mart_has_a_yml_entry_with_its_contract():
    models = _mart_models()
    assert set(models) == {p.stem for p in MARTS_DIR.glob("*.sql")}
    for name, model in models.items():
        assert model["columns"], name
        assert all(c.get("data_type") for c in model["columns"]), name


def test_every_mart_and_every_column_is_described_in_vietnamese_and_english():
    models = _mart_models()
    columns = 0
    for name, model in models.items():
        _assert_bilingual(name, model.get("description"))
        for column in model["columns"]:
            _assert_bilingual(f"{name}.{column['name']}", column.get("description"))
            columns += 1
    assert len(models) == 12 and columns >= 154


def test_split_description():
    assert split_description("Mã hộ.  /\n  English: a/b.") == ("Mã hộ.", "English: a/b.")
    for bad in ("Only English.", "A / B / C", " / English", None):
        with pytest.raises(ValueError):
            split_description(bad)


def test_manifest_schema_items_take_the_comments_and_say_what_the_shared_tier_did():
    def entry(mart: str, *names: str) -> dict:
        return {"file": f"{mart}.parquet", "schema": [{"name": n, "type": "string"} for n in names]}

    comments = {"person_key": "Khóa. / Key.", "sex": "Giới tính. / Sex.", "domain": "Lĩnh vực. / Domain."}
    citizens = entry("dim_citizen", "person_key", "sex", "birth_year_from", "extra")
    ward = describe_schema(citizens, comments)["schema"]
    assert [i["description"] for i in ward] == ["Khóa. / Key.", "Giới tính. / Sex.", None, None]
    shared = describe_schema(citizens, comments, shared=True)["schema"]
    assert shared[0]["description"].startswith("Mã băm có khóa (HMAC), thay cho: Khóa. / Keyed hash")
    vi, en = split_description(shared[1]["description"])  # a quasi-identifier of a person-level mart
    assert vi.startswith("Giới tính. (Tầng dùng chung")
    assert en.startswith("Sex. (Shared tier: may be generalised")
    _assert_bilingual("birth_year_from", shared[2]["description"])
    assert shared[3]["description"] is None
    assert citizens["schema"][0] == {"name": "person_key", "type": "string"}  # not modified in place
    records = describe_schema(entry("fct_service_record", "domain"), comments, shared=True)["schema"]
    assert records[0]["description"] == "Lĩnh vực. / Domain."


def test_comments_of_a_database(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema marts; create table marts.t (a int, b int)")
        con.execute("comment on table marts.t is 'Bảng. / Table.'")
        con.execute("comment on column marts.t.a is 'Cột a. / Column a.'")
        assert column_comments(con) == {"t": {"a": "Cột a. / Column a.", "b": None}}
        assert table_comments(con) == {"t": "Bảng. / Table."}
        assert undescribed(con) == ["t.b"]


# ---------------------------------------------------------------------------- a built ward, e2e
@pytest.fixture(scope="module")
def built_ward(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ward")
    generate_ward(data_dir, people=1500, groups=6, seed=7)
    settings = Settings(data_dir=data_dir, shared_export_key="k" * 32)
    output = io.StringIO()
    code = run_ward(settings, output)
    assert code == 0, output.getvalue()
    return settings


def _warehouse(settings: Settings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(settings.warehouse_path), read_only=True)


@pytest.mark.e2e
def test_every_mart_column_has_its_description_as_a_duckdb_comment(built_ward):
    models = _mart_models()
    with _warehouse(built_ward) as con:
        assert undescribed(con) == []
        columns, tables = column_comments(con), table_comments(con)
    assert set(columns) == set(models)
    for name, model in models.items():
        assert tables[name] == _normal(model["description"])
        described = {c["name"]: _normal(c["description"]) for c in model["columns"]}
        assert columns[name] == described, name  # every column, in the contract's order too


@pytest.mark.e2e
def test_the_export_manifests_carry_the_descriptions(built_ward):
    with _warehouse(built_ward) as con:
        comments = column_comments(con)
    exports = built_ward.exports_dir
    ward = json.loads((exports / "manifest.json").read_text())
    assert {f["file"].removesuffix(".parquet") for f in ward["files"]} == set(comments)
    for entry in ward["files"]:
        mart = entry["file"].removesuffix(".parquet")
        assert {i["name"]: i["description"] for i in entry["schema"]} == comments[mart]
    shared = json.loads((exports / "shared" / "manifest.json").read_text())
    assert shared["files"]
    for entry in shared["files"]:
        mart = entry["file"].removesuffix(".parquet")
        for item in entry["schema"]:
            _assert_bilingual(f"shared {mart}.{item['name']}", item["description"])
            if shared_action(item["name"], mart) == "hash":
                assert item["description"].startswith("Mã băm có khóa (HMAC)")
            elif item["name"] in comments[mart]:  # as in the warehouse, or with what was generalised
                vi, en = split_description(item["description"])
                ward_vi, ward_en = split_description(comments[mart][item["name"]])
                assert vi.startswith(ward_vi) and en.startswith(ward_en), item


@pytest.mark.e2e
def test_service_kpis_name_each_procedure_and_flag_the_partial_month(built_ward):
    with _warehouse(built_ward) as con:
        kpis = con.execute(
            "select month, procedure_code, procedure_name, is_partial_month from marts.mart_service_kpis"
        ).fetchall()
        records = con.execute(
            "select procedure_code, procedure_name, extract_date, updated_at, record_id "
            "from marts.fct_service_record where procedure_code is not null"
        ).fetchall()
        (latest_extract,) = con.execute(
            "select max(extract_date) from marts.deliveries "
            "where source = 'service_records' and status = 'loaded'"
        ).fetchone()
    # the row set is the spec's (every month × every code), as the generator's truth has it
    with (built_ward.truth_dir / "mart_service_kpis.csv").open(newline="") as truth:
        expected = sorted((r["month"], r["procedure_code"]) for r in csv.DictReader(truth))
    assert sorted((m.isoformat(), c) for m, c, _, _ in kpis) == expected

    # the latest name seen for each code: the dossier of the latest extract, then updated last
    latest: dict[str, tuple] = {}
    for code, name, extract_date, updated_at, record_id in records:
        rank = (extract_date or date.min, str(updated_at or ""), record_id)
        if name is not None and (code not in latest or rank > latest[code][0]):
            latest[code] = (rank, name)
    names = {code: name for code, (_, name) in latest.items()} | {"ALL": ALL_PROCEDURES}
    assert {(code, name) for _, code, name, _ in kpis} == set(names.items())

    last_month = latest_extract.replace(day=1)
    month_end = (last_month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    for month, code, _, partial in kpis:
        assert partial is (month == last_month and latest_extract != month_end), (month, code)
    assert max(month for month, *_ in kpis) == last_month


@pytest.mark.e2e
def test_dbt_docs_are_built_beside_the_data(built_ward):
    site = docs_dir(built_ward.data_dir)
    assert site == built_ward.data_dir / "docs" and site.is_symlink()
    for name in DOCS_FILES:
        assert (site / name).stat().st_size > 0, name
    catalog = json.loads((site / "catalog.json").read_text())
    manifest = json.loads((site / "manifest.json").read_text())
    kpis = catalog["nodes"]["model.ward.mart_service_kpis"]
    assert {"procedure_name", "is_partial_month"} <= set(kpis["columns"])
    assert all(c["comment"] for c in kpis["columns"].values())  # read back from the warehouse
    described = manifest["nodes"]["model.ward.mart_service_kpis"]["columns"]["is_partial_month"]
    _assert_bilingual("docs mart_service_kpis.is_partial_month", described["description"])
    assert Path(site / "static_index.html").read_text().count("is_partial_month") >= 1
