"""`ward serve` on a small built warehouse: every role × endpoint, answers equal to the marts, the
audit trail, small-cell suppression, the shared tier, the leaders' page (FastAPI's TestClient)."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from ward.readers import connect_reader
from ward.serve.app import audit_path, create_app
from ward.serve.auth import hash_key
from ward.serve.data import Warehouse
from ward.settings import Settings

pytestmark = pytest.mark.e2e

SHARED_KEY = "k" * 32
GROUP = 3
OTHER = 4
KEYS = {
    "leader": ("leader-key-0123456789", {"name": "Chủ tịch UBND phường", "role": "leader"}),
    "group_leader": (
        "group3-key-0123456789",
        {"name": "Tổ trưởng tổ 3", "role": "group_leader", "group": GROUP},
    ),
    "steward": ("steward-key-0123456789", {"name": "Cán bộ dữ liệu", "role": "steward"}),
    "app": ("app-key-0123456789", {"name": "Ứng dụng tổ dân phố", "role": "app"}),
    "admin": ("admin-key-0123456789", {"name": "Quản trị", "role": "admin"}),
}


def built_ward(tmp_path_factory) -> Settings:
    """The small ward, generated and run once per test session (about a minute), with a keys file."""
    root = tmp_path_factory.getbasetemp() / "serve_ward"
    if os.environ.get("WARD_TEST_SERVE_ROOT"):  # reuse a ward built earlier while iterating by hand
        root = Path(os.environ["WARD_TEST_SERVE_ROOT"])
    data_dir = root / "data"
    settings = Settings(data_dir=data_dir, shared_export_key=SHARED_KEY)
    if not settings.warehouse_path.exists():
        from tests.fixtures.pipeline import run_ward
        from ward.generate import generate_ward

        generate_ward(data_dir, people=1500, groups=6, seed=7)
        assert run_ward(settings) == 0
    keys_file = root / "admin" / "keys.yml"  # kept apart from the data root, as an administrator would
    keys_file.parent.mkdir(exist_ok=True)
    keys_file.write_text(
        json.dumps({"keys": {f"sha256:{hash_key(k)}": v for k, v in KEYS.values()}}, ensure_ascii=False)
    )
    return Settings(data_dir=data_dir, shared_export_key=SHARED_KEY, serve_keys_file=keys_file)


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return built_ward(tmp_path_factory)


@pytest.fixture(scope="module")
def client(settings) -> TestClient:
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def sql(settings):
    con = connect_reader(settings)

    def run(query: str, params=()):
        cur = con.execute(query, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    return run


def get(client: TestClient, role: str | None, url: str, **headers):
    h = {"X-Purpose": "ki%E1%BB%83m%20th%E1%BB%AD / test", **headers}  # "kiểm thử / test", percent-encoded
    if role == "bad":
        h["X-Ward-Key"] = "not-a-key"
    elif role:
        h["X-Ward-Key"] = KEYS[role][0]
    return client.get(url, headers=h, follow_redirects=False)


M = "/api/metrics?metric=residents&by=residential_group_no"
MATRIX = {
    # endpoint:                                   none bad leader gl   steward app admin
    M: (401, 401, 200, 200, 200, 200, 403),
    f"/api/metrics?metric=residents&where=residential_group_no={OTHER}": (401, 401, 200, 403, 200, 200, 403),
    "/api/metrics?metric=residents_counted&by=sex": (401, 401, 200, 200, 200, 403, 403),
    "/api/marts/mart_population_by_group": (401, 401, 200, 200, 403, 200, 403),
    "/api/marts/mart_service_kpis": (401, 401, 200, 200, 403, 200, 403),
    "/api/marts/mart_data_quality": (401, 401, 200, 200, 200, 200, 403),
    "/api/marts/deliveries": (401, 401, 200, 403, 200, 200, 403),
    "/api/marts/dim_citizen": (401, 401, 403, 200, 403, 200, 403),
    f"/api/marts/dim_citizen?group={OTHER}": (401, 401, 403, 403, 403, 200, 403),
    f"/api/marts/dim_citizen?group={GROUP}": (401, 401, 403, 200, 403, 200, 403),
    "/api/marts/dim_household": (401, 401, 403, 200, 403, 200, 403),
    "/api/marts/fct_service_record": (401, 401, 403, 403, 403, 200, 403),
    "/api/marts/findings": (401, 401, 403, 200, 200, 200, 403),
    "/api/marts/quarantine": (401, 401, 403, 200, 200, 404, 403),
    f"/api/marts/quarantine?group={OTHER}": (401, 401, 403, 403, 200, 404, 403),
    "/api/marts/no_such_mart": (401, 401, 404, 404, 404, 404, 403),
    "/api/audit": (401, 401, 403, 403, 403, 403, 200),
    "/": (401, 401, 200, 200, 403, 403, 403),
    "/api/tool.json": (200, 200, 200, 200, 200, 200, 200),
    "/openapi.json": (200, 200, 200, 200, 200, 200, 200),
}
ROLES = (None, "bad", "leader", "group_leader", "steward", "app", "admin")


@pytest.mark.parametrize(("url", "role"), [(u, r) for u in MATRIX for r in ROLES])
def test_role_by_endpoint(client, url, role):
    expected = MATRIX[url][ROLES.index(role)]
    r = get(client, role, url)
    assert r.status_code == expected, (role, url, r.text[:300])


def test_residents_by_group_equal_the_mart_at_the_latest_snapshot(client, sql):
    mart = {
        r["residential_group_no"]: r["residents"]
        for r in sql(
            "select residential_group_no, residents from marts.mart_population_by_group "
            "where snapshot_date = (select max(snapshot_date) from marts.mart_population_by_group) "
            "and residential_group_no is not null"
        )
    }
    rows = get(client, "leader", M).json()["rows"]
    assert {r["residential_group_no"]: r["residents"] for r in rows} == mart  # all ≥ 5: none hidden
    ward = get(client, "leader", "/api/metrics?metric=residents,households,absent").json()["rows"][0]
    (expected,) = sql(
        "select residents, households, absent from marts.mart_population_by_group "
        "where residential_group_no is null order by snapshot_date desc limit 1"
    )
    assert {k: ward[k] for k in expected} == expected
    own = get(client, "group_leader", M).json()
    assert own["rows"] == [
        {"residential_group_no": GROUP, "residents": mart[GROUP], "residents_suppressed": False}
    ]


def test_service_kpis_and_overdue_equal_the_marts(client, sql):
    mart = sql(
        "select month, received, finished from marts.mart_service_kpis "
        "where procedure_code = 'ALL' order by month"
    )
    body = get(client, "leader", "/api/metrics?metric=dossiers_received,dossiers_finished&by=month").json()
    got = [(r["month"], r["dossiers_received"], r["dossiers_finished"]) for r in body["rows"]]
    want = [(m["month"].isoformat(), m["received"], m["finished"]) for m in mart]
    for (gm, gr, gf), (wm, wr, wf) in zip(got, want, strict=True):
        assert gm == wm
        assert gr == (None if 0 < wr < 5 else wr) and gf == (None if 0 < wf < 5 else wf)
    overdue = {
        r["procedure_code"]: r["n"]
        for r in sql(
            "select procedure_code, count(*) filter (where is_overdue) as n "
            "from marts.fct_service_record group by 1"
        )
    }
    body = get(client, "steward", "/api/metrics?metric=dossiers_overdue&by=procedure_code").json()
    for r in body["rows"]:
        n = overdue[r["procedure_code"]]
        assert r["dossiers_overdue"] == (None if 0 < n < 5 else n)
        assert r["dossiers_overdue_suppressed"] == (0 < n < 5)


def test_pyramid_margins_equal_the_mart(client, sql):
    (mart,) = sql(
        "select male, female, age_0_5, age_6_14, age_15_59, age_60_plus from marts.mart_population_by_group "
        f"where residential_group_no = {GROUP} order by snapshot_date desc limit 1"
    )
    rows = get(client, "group_leader", "/api/metrics?metric=residents_counted&by=age_band,sex").json()["rows"]
    by_sex = {s: sum(r["residents_counted"] for r in rows if r["sex"] == s) for s in ("M", "F")}
    by_band = {
        b: sum(r["residents_counted"] for r in rows if r["age_band"] == b)
        for b in ("0-5", "6-14", "15-59", "60+")
    }
    assert (by_sex["M"], by_sex["F"]) == (mart["male"], mart["female"])
    assert list(by_band.values()) == [
        mart["age_0_5"],
        mart["age_6_14"],
        mart["age_15_59"],
        mart["age_60_plus"],
    ]


def test_small_cells_are_suppressed_for_leaders_not_for_the_group_leader_in_their_group(client, sql):
    mart = sql(
        "select month, residential_group_no as g, births, moves_out from marts.mart_population_change "
        "where residential_group_no is not null order by 1, 2"
    )
    assert any(0 < r["births"] < 5 or 0 < r["moves_out"] < 5 for r in mart)  # the ward has small cells
    body = get(client, "leader", "/api/metrics?metric=births,moves_out&by=month,residential_group_no").json()
    assert body["min_cell"] == 5 and body["suppressed_cells"] > 0
    for want, got in zip(mart, body["rows"], strict=True):
        for m in ("births", "moves_out"):
            small = 0 < want[m] < 5
            assert got[f"{m}_suppressed"] == small
            assert got[m] == (None if small else want[m])
    own = get(client, "group_leader", "/api/metrics?metric=births,moves_out&by=month").json()
    mine = [r for r in mart if r["g"] == GROUP]
    assert [(r["births"], r["moves_out"]) for r in own["rows"]] == [
        (r["births"], r["moves_out"]) for r in mine
    ]
    page = get(client, "leader", "/api/marts/mart_population_change?page_size=1000").json()
    assert page["suppressed_cells"] > 0
    assert all(r[c] is None for r in page["rows"] for c in r["suppressed_columns"])


def test_group_leader_reads_only_their_group_worklist(client, sql):
    body = get(client, "group_leader", "/api/marts/dim_citizen?page_size=1000").json()
    (n,) = sql(f"select count(*) as n from marts.dim_citizen where residential_group_no = {GROUP}")
    assert body["total_rows"] == n["n"] == len(body["rows"])
    assert {r["residential_group_no"] for r in body["rows"]} == {GROUP}
    for mart in ("findings", "quarantine"):
        body = get(client, "group_leader", f"/api/marts/{mart}?page_size=1000").json()
        (n,) = sql(
            f"select count(*) as n from marts.{mart} "
            f"where residential_group_no = {GROUP} and resolved_at is null"
        )
        assert body["total_rows"] == n["n"]
        assert all(r["residential_group_no"] == GROUP and r["resolved_at"] is None for r in body["rows"])
    # pages: two halves make the whole
    first = get(client, "group_leader", "/api/marts/dim_citizen?page=1&page_size=100").json()["rows"]
    second = get(client, "group_leader", "/api/marts/dim_citizen?page=2&page_size=100").json()["rows"]
    assert not {r["person_key"] for r in first} & {r["person_key"] for r in second}


def test_the_app_reads_the_shared_tier_only(client, settings):
    body = get(client, "app", "/api/marts/dim_citizen?page_size=1000").json()
    shared = pq.read_table(settings.exports_dir / "shared" / "dim_citizen.parquet")
    assert body["total_rows"] == shared.num_rows
    assert not {"full_name", "date_of_birth", "phone"} & set(body["rows"][0])
    metrics = get(client, "app", M).json()
    assert metrics["tier"] == "shared" and metrics["rows"]


def test_formats_csv_and_parquet_hold_the_json_rows(client):
    url = "/api/metrics?metric=dossiers_received&by=month"
    rows = get(client, "leader", url).json()["rows"]
    csv_text = get(client, "leader", url + "&format=csv").text
    assert csv_text.splitlines()[0] == "month,dossiers_received,dossiers_received_suppressed"
    assert len(csv_text.splitlines()) == len(rows) + 1
    table = pq.read_table(io.BytesIO(get(client, "leader", url + "&format=parquet").content))
    assert table.column("dossiers_received").to_pylist() == [r["dossiers_received"] for r in rows]


def test_audit_lines_for_allowed_and_refused_requests_hold_no_personal_values(client, settings, sql):
    get(client, "group_leader", "/api/marts/dim_citizen?page_size=1000")
    get(client, "group_leader", f"/api/marts/dim_citizen?group={OTHER}")
    client.get(f"/?key={KEYS['leader'][0]}", follow_redirects=False)
    get(client, "bad", M)
    path = audit_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    lines = [json.loads(x) for x in text.splitlines()]
    allowed = [
        x
        for x in lines
        if x["endpoint"] == "/api/marts/{name}"
        and x["status"] == 200
        and x["who"] == "Tổ trưởng tổ 3"
        and x["parameters"].get("name") == "dim_citizen"
    ]
    assert allowed and allowed[-1]["groups"] == [GROUP] and allowed[-1]["rows"] > 0
    assert allowed[-1]["purpose"] == "kiểm thử / test" and allowed[-1]["role"] == "group_leader"
    refused = [x for x in lines if x["status"] == 403 and x["parameters"].get("group") == str(OTHER)]
    assert refused and refused[-1]["outcome"] == "refused" and "outside" in refused[-1]["reason"]
    assert any(x["status"] == 401 and x["reason"] == "unknown key" and x["who"] is None for x in lines)
    for k, _ in KEYS.values():
        assert k not in text  # neither from the header nor from ?key=
    people = sql(
        f"select full_name, citizen_id, phone from marts.dim_citizen where residential_group_no = {GROUP}"
    )
    values = {v for p in people for v in p.values() if v}
    assert values and not [v for v in values if v in text]
    assert not re.search(r"\b\d{12}\b", text)  # no personal ID number at all
    # the admin reads it with filters; nobody else does
    body = get(client, "admin", "/api/audit?who=Tổ trưởng tổ 3&status=403").json()
    assert body["lines"] and all(x["status"] == 403 for x in body["lines"])
    # no route writes or deletes it
    for method in ("post", "put", "delete", "patch"):
        assert (
            getattr(client, method)("/api/audit", headers={"X-Ward-Key": KEYS["admin"][0]}).status_code == 405
        )


def test_the_page_shows_the_marts_figures_and_only_the_callers_group(client, sql):
    mart = {
        r["g"]: r["residents"]
        for r in sql(
            "select residential_group_no as g, residents from marts.mart_population_by_group "
            "where snapshot_date = (select max(snapshot_date) from marts.mart_population_by_group) "
            "and g is not null"
        )
    }
    html = get(client, "leader", "/").text
    shown = dict(re.findall(r"data-figure='residents' data-key='(\d+)' data-value='(\d+)'", html))
    assert {int(k): int(v) for k, v in shown.items()} == mart
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    own = get(client, "group_leader", "/").text
    shown = dict(re.findall(r"data-figure='residents' data-key='(\d+)' data-value='(\d+)'", own))
    assert shown == {str(GROUP): str(mart[GROUP])}
    assert not re.search(rf"data-figure='(residents|households|absent|quality)' data-key='{OTHER}\b", own)
    assert f"Tổ {OTHER}<" not in own


def test_the_browser_login_keeps_the_key_in_a_cookie_not_in_the_address(client):
    r = client.get(f"/?key={KEYS['leader'][0]}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "httponly" in r.headers["set-cookie"].lower()
    r = client.post(
        "/login",
        content=f"key={KEYS['group_leader'][0]}",
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Tổ dân phố 3" in client.get("/").text
    client.cookies.clear()
    assert client.get("/").status_code == 401


def test_openapi_and_tool_speak_vietnamese_and_english(client):
    spec = get(client, None, "/openapi.json").json()
    assert "Phường" in spec["info"]["title"] and "ward" in spec["info"]["title"]
    op = spec["paths"]["/api/metrics"]["get"]
    assert "Chỉ số" in op["summary"] and "metrics" in op["summary"]
    assert all(p.get("description") for p in op["parameters"])
    tool = get(client, None, "/api/tool.json").json()
    assert "residents" in tool["parameters"]["properties"]["metric"]["items"]["enum"]


def test_the_server_reader_cannot_write(settings):
    con = Warehouse(settings).cursor()
    for statement in (
        f"copy (select 1) to '{settings.data_dir}/x.csv'",
        "set enable_external_access = true",
        "create table marts.x as select 1",
        "select * from read_csv('/etc/passwd')",
    ):
        with pytest.raises(Exception):  # noqa: B017
            con.execute(statement)
    assert not Path(settings.data_dir, "x.csv").exists()


def test_the_app_filters_a_shared_table_by_group(client, settings):
    body = get(client, "app", f"/api/marts/dim_citizen?group={GROUP}&page_size=1000").json()
    shared = pq.read_table(settings.exports_dir / "shared" / "dim_citizen.parquet")
    want = sum(1 for g in shared.column("residential_group_no").to_pylist() if g == GROUP)
    assert body["total_rows"] == want == len(body["rows"])
    assert {r["residential_group_no"] for r in body["rows"]} == {GROUP}
