"""Identity resolution on small hand-built tables (deterministic path) plus one splink-sized run."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from ward.identity import link_applicants, resolve_identities

COLS = (
    "source_file varchar, row_number integer, file_sha256 varchar, extract_date date, citizen_id varchar, "
    "legacy_id varchar, full_name varchar, date_of_birth date, birth_year integer, sex varchar, "
    "household_id varchar, phone varchar, residential_group_no integer, updated_at timestamp"
)


def _row(file, n, cid, name, dob, sex="M", hh="HH1", phone=None, legacy=None, extract="2025-01-01"):
    d = dt.date.fromisoformat(dob)
    return (file, n, "sha-" + file, extract, cid, legacy, name, d, d.year, sex, hh, phone, 1, None)


def _load(con, rows, table="cit"):
    con.execute(f"create or replace table {table} ({COLS})")
    if rows:
        con.executemany(f"insert into {table} values ({', '.join('?' * 14)})", rows)


def _keys(con):
    return {
        (f, n): (k, c, m)
        for f, n, k, c, m in con.execute(
            "select source_file, row_number, person_key, match_confidence, match_method "
            "from identity.row_persons"
        ).fetchall()
    }


def _md5_16(con, text):
    return con.execute("select substr(md5(?), 1, 16)", [text]).fetchone()[0]


A = "001085012345"
B = "001085099999"


def _base_rows():
    return [
        _row("s1.csv", 1, A, "Nguyễn Văn An", "1985-03-04"),
        _row("s2.csv", 1, A, "Nguyễn Văn An", "1985-03-04", extract="2025-02-01"),
        _row("s2.csv", 2, None, "Nguyen Van An", "1985-03-04", extract="2025-02-01"),  # same person, no ID
        _row("s2.csv", 3, None, "NGUYỄN VĂN AN", "1985-04-03", extract="2025-02-01"),  # day/month swapped
        _row("s1.csv", 2, B, "Trần Thị Đào", "1990-01-01", sex="F", hh="HH2"),
        _row("s1.csv", 3, "079190000001", "Trần Thị Đào", "1990-01-01", sex="F", hh="HH2"),  # other ID, twin
        _row("s1.csv", 4, None, "Lê Văn Bình", "1970-07-07", hh="HH3"),  # alone
    ]


def test_ids_swaps_and_never_merging_two_ids():
    con = duckdb.connect()
    _load(con, _base_rows())
    report = resolve_identities(con, "cit")
    k = _keys(con)
    key_a = _md5_16(con, "person|id:" + A)
    assert k[("s1.csv", 1)][0] == k[("s2.csv", 1)][0] == key_a
    assert k[("s1.csv", 1)][1:] == (1.0, "citizen_id")
    assert k[("s2.csv", 2)][0] == key_a and k[("s2.csv", 2)][2] == "deterministic"
    assert k[("s2.csv", 3)][0] == key_a
    assert k[("s1.csv", 2)][0] != k[("s1.csv", 3)][0]
    assert k[("s1.csv", 4)][1:] == (0.5, "row")
    assert report.linking == "deterministic" and report.rows == 7
    assert con.execute("select count(*) from identity.row_persons").fetchone()[0] == 7


def test_legacy_id_links_to_citizen_id_and_cmnd_only_key():
    con = duckdb.connect()
    _load(
        con,
        [
            _row("s1.csv", 1, A, "Phạm Văn Cường", "1960-01-02", legacy="123456789"),
            _row("s1.csv", 2, None, "Phạm Văn C", "1960-01-02", legacy="123456789", hh="HH9"),
            _row("s1.csv", 3, None, "Võ Thị Hoa", "1950-05-05", legacy="987654321", sex="F"),
        ],
    )
    resolve_identities(con, "cit")
    k = _keys(con)
    assert k[("s1.csv", 2)] == (_md5_16(con, "person|id:" + A), 1.0, "legacy_id")
    assert k[("s1.csv", 3)][0] == _md5_16(con, "person|cmnd:987654321")


def test_keys_stable_when_later_snapshot_added():
    con = duckdb.connect()
    rows = _base_rows()
    _load(con, rows)
    resolve_identities(con, "cit")
    before = _keys(con)
    later = [
        _row("s3.csv", 1, None, "Lê Văn Bình", "1970-07-07", hh="HH3", extract="2025-03-01"),
        _row("s3.csv", 2, A, "Nguyễn Văn An", "1985-03-04", extract="2025-03-01"),
    ]
    _load(con, rows + later)
    resolve_identities(con, "cit")
    after = _keys(con)
    assert all(after[r][0] == before[r][0] for r in before)
    assert after[("s3.csv", 1)][0] == before[("s1.csv", 4)][0]
    assert after[("s3.csv", 2)][0] == before[("s1.csv", 1)][0]


def test_empty_input():
    con = duckdb.connect()
    _load(con, [])
    report = resolve_identities(con, "cit")
    assert report.rows == 0
    assert con.execute("select count(*) from identity.row_persons").fetchone()[0] == 0


def test_applicants_by_id_and_name_phone():
    con = duckdb.connect()
    con.execute(
        "create table persons as select * from (values "
        "('k1', '001085012345', 'Nguyễn Văn An', '0912345678'), ('k2', null, 'Trần Thị Đào', '0987654321')) "
        "t(person_key, citizen_id, full_name, phone)"
    )
    con.execute(
        "create table svc as select * from (values ('d.csv', 1, 'h', '001085012345', 'x', null), "
        "('d.csv', 2, 'h', 'abc', 'tran thi dao', '0987654321'), ('d.csv', 3, 'h', null, 'Ai Đó', null)) "
        "t(source_file, row_number, file_sha256, applicant_id, applicant_name, applicant_phone)"
    )
    link_applicants(con, "svc", "persons")
    got = con.execute(
        "select row_number, applicant_person_key, match_confidence, match_method "
        "from identity.applicant_persons order by row_number"
    ).fetchall()
    assert got == [(1, "k1", 1.0, "citizen_id"), (2, "k2", 0.9, "name_phone"), (3, None, None, None)]


def test_splink_path_links_noid_rows():
    """Enough no-ID rows to train: 80 ID persons across two snapshots, with no-ID copies of 60 of them."""
    first = ["An", "Bình", "Cường", "Dũng", "Hoa", "Lan", "Mai", "Nam", "Phúc", "Quân"]
    last = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"]
    rows, n = [], 0
    for i in range(80):
        name = f"{last[i % 8]} Văn {first[(i // 8) % 10]}"
        dob = (dt.date(1950, 1, 1) + dt.timedelta(days=97 * i)).isoformat()
        cid, hh, phone = f"0010{i:08d}", f"HH{i // 3}", f"09{i:08d}"
        for snap in ("s1.csv", "s2.csv"):
            n += 1
            rows.append(_row(snap, n, cid, name, dob, hh=hh, phone=phone))
        if i < 60:
            n += 1
            rows.append(_row("s3.csv", n, None, name.upper(), dob, hh=hh, phone=phone if i % 2 else None))
    con = duckdb.connect()
    _load(con, rows)
    report = resolve_identities(con, "cit")
    assert report.linking == "splink"
    linked = con.execute(
        "select count(*) from identity.row_persons where source_file = 's3.csv' and match_method = 'splink'"
    ).fetchone()[0]
    assert linked >= 55
    assert report.persons <= 85


@pytest.fixture(autouse=True)
def _quiet_splink(caplog):
    caplog.set_level("ERROR", logger="splink")
