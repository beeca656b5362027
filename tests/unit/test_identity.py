"""ward.identity: one person_key per person, on staged tables built here (no pipeline needed).

Small hand-built tables exercise the exact fallback (too few rows without ID to train splink); a
generated ward of ~3,000 persons (ward.identity.synthetic) exercises the splink path, with
hand-built rows appended to it, and measures pairwise precision / recall / F1 against its truth.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from ward.identity import resolve_identities
from ward.identity import settings as S
from ward.identity.evaluation import pairwise_scores
from ward.identity.synthetic import make_citizens

CITIZENS = "staging.stg_landing__citizens"
SERVICES = "staging.stg_landing__service_records"
COLUMNS = """
    source_file varchar, row_number integer, file_sha256 varchar, extract_date date,
    citizen_id varchar, citizen_id_status varchar, citizen_id_raw varchar, legacy_id varchar,
    full_name varchar, date_of_birth date, date_of_birth_precision varchar, birth_year integer,
    sex varchar, household_id varchar, phone varchar, residential_group_no integer, updated_at timestamp,
    true_person bigint
"""

A = "031085012345"  # valid IDs used by the hand-built rows
B = "031085099999"


def row(file, n, cid, name, dob, *, sex="M", hh="HO9000001", phone=None, legacy=None, prec="day", truth=None):
    status = "valid" if cid else ("scientific" if cid is None else "missing")
    raw = cid if cid else "3.10850E+11"
    day = dt.date.fromisoformat(dob)
    extract = dt.date.fromisoformat(file[3:13])
    return (
        file, n, None, extract, cid, status, raw, legacy, name, day, prec, day.year, sex, hh, phone, 1, None,
        truth,
    )  # fmt: skip


def citizens_table(con, rows=()):
    con.execute("create schema if not exists staging")
    con.execute(f"create or replace table {CITIZENS} ({COLUMNS})")
    if rows:
        con.executemany(f"insert into {CITIZENS} values ({', '.join('?' * 18)})", list(rows))


def keys(con) -> dict[tuple[str, int], tuple[str, float, str]]:
    return {
        (f, n): (k, c, m)
        for f, n, k, c, m in con.execute(
            "select source_file, row_number, person_key, match_confidence, match_method "
            "from identity.row_persons"
        ).fetchall()
    }


def id_key(con, cid: str) -> str:
    return con.execute("select substr(md5('person|id:' || ?), 1, 16)", [cid]).fetchall()[0][0]


F1 = "ds_2026-01-01.csv"
F2 = "ds_2026-04-01.csv"
F3 = "ds_2026-07-01.csv"
F4 = "ds_2026-10-01.csv"


# --------------------------------------------------------------------------------------------
# Small tables: deterministic rules and the exact fallback.
# --------------------------------------------------------------------------------------------


def test_same_valid_id_across_snapshots_is_one_person():
    con = duckdb.connect()
    citizens_table(
        con,
        [
            row(F1, 1, A, "Nguyễn Văn An", "1985-03-04"),
            row(F2, 7, A, "Nguyễn Văn An", "1985-03-04", hh="HO9000002"),  # moved: still A
            row(F1, 2, B, "Trần Thị Đào", "1990-01-01", sex="F"),
        ],
    )
    report = resolve_identities(con, services_relation=None)
    k = keys(con)
    assert k[(F1, 1)] == k[(F2, 7)] == (id_key(con, A), 1.0, "citizen_id")
    assert k[(F1, 2)][0] == id_key(con, B)
    assert report.persons == 2 and report.rows_kept == 3
    persons = con.execute(
        "select person_key, citizen_id, source_row_count from identity.persons order by 2"
    ).fetchall()
    assert persons == [(id_key(con, A), A, 2), (id_key(con, B), B, 1)]


def test_exact_fallback_links_scientific_id_and_swapped_dates_and_says_so():
    con = duckdb.connect()
    citizens_table(
        con,
        [
            row(F1, 1, A, "Nguyễn Văn An", "1985-03-04"),
            row(F2, 1, A, "Nguyễn Văn An", "1985-03-04"),
            row(F3, 1, None, "NGUYEN VAN AN", "1985-03-04"),  # ID as 3.10850E+11: same person
            row(F4, 2, None, "Nguyễn Văn An", "1985-04-03"),  # day and month swapped
            row(F3, 3, None, "Lê Văn Bình", "1970-07-07"),  # matches nothing
        ],
    )
    report = resolve_identities(con, services_relation=None)
    k = keys(con)
    assert report.linkage_method == "exact"
    assert any("too few to train" in note for note in report.notes)
    assert k[(F3, 1)] == (id_key(con, A), S.CONFIDENCE_EXACT, "exact_attributes")
    assert k[(F4, 2)] == (id_key(con, A), S.CONFIDENCE_EXACT_SWAPPED, "exact_attributes")
    alone = con.execute(
        "select substr(md5('person|row:le van binh|1970-07-07|M|HO9000001'), 1, 16)"
    ).fetchall()
    assert k[(F3, 3)] == (alone[0][0], S.CONFIDENCE_UNMATCHED, "unmatched")


def test_two_valid_ids_with_the_same_name_and_birth_date_are_never_merged():
    con = duckdb.connect()
    citizens_table(
        con,
        [
            row(F1, 1, A, "Trần Thị Đào", "1990-01-01", sex="F"),
            row(F1, 2, B, "Trần Thị Đào", "1990-01-01", sex="F"),
            row(F2, 1, None, "Trần Thị Đào", "1990-01-01", sex="F"),  # could be either: joins one only
            row(F2, 2, A, "Trần Thị Đào", "1990-01-01", sex="F"),
            row(F2, 3, B, "Trần Thị Đào", "1990-01-01", sex="F"),
        ],
    )
    resolve_identities(con, services_relation=None)
    k = keys(con)
    assert k[(F1, 1)][0] == id_key(con, A) and k[(F1, 2)][0] == id_key(con, B)
    assert con.execute(
        "select max(n) from (select count(distinct c.citizen_id) as n from identity.row_persons p "
        f"join {CITIZENS} c using (source_file, row_number) group by p.person_key)"
    ).fetchall() == [(1,)]
    # snapshot 2 lists both A and B, and its ID-less row resembles both equally: which one it copies
    # is a guess, so it joins neither; the refused links are listed for review, not merged
    assert k[(F2, 1)][0] not in (id_key(con, A), id_key(con, B))
    reasons = {r for (r,) in con.execute("select reason from identity.review_pairs").fetchall()}
    assert reasons == {"refused: listed in one snapshot, not surely one person"}


def test_legacy_cmnd_links_to_the_citizen_id_or_keys_a_person_of_its_own():
    con = duckdb.connect()
    citizens_table(
        con,
        [
            row(F1, 1, A, "Phạm Văn Cường", "1960-05-05", legacy="012345678"),
            row(F2, 1, None, "Phạm Văn Cường", "1960-05-05", hh="HO9000009", legacy="012345678"),
            row(F1, 2, None, "Đỗ Thị Hà", "1955-02-02", sex="F", legacy="087654321"),
            row(F2, 2, None, "Đỗ Thị Hà", "1955-02-02", sex="F", hh="HO9000003", legacy="087654321"),
        ],
    )
    resolve_identities(con, services_relation=None)
    k = keys(con)
    assert k[(F2, 1)] == (id_key(con, A), S.CONFIDENCE_LEGACY_ID, "legacy_id")
    cmnd_key = con.execute("select substr(md5('person|cmnd:087654321'), 1, 16)").fetchall()[0][0]
    assert k[(F1, 2)] == k[(F2, 2)] == (cmnd_key, S.CONFIDENCE_LEGACY_ID, "legacy_id")


def test_quarantined_rows_are_left_out():
    con = duckdb.connect()
    citizens_table(
        con, [row(F1, 1, A, "Nguyễn Văn An", "1985-03-04"), row(F1, 2, B, "Lê Thị Lan", "1990-01-01")]
    )
    con.execute("create schema quality")
    con.execute(
        "create table quality.row_issues as select 'citizens' as source, ? as source_file, 2 as row_number, "
        "'quarantine' as outcome, null::varchar as file_sha256",
        [F1],
    )
    report = resolve_identities(con, services_relation=None)
    assert list(keys(con)) == [(F1, 1)]
    assert report.rows_excluded == 1


def test_empty_input_writes_empty_tables():
    con = duckdb.connect()
    citizens_table(con)
    con.execute(f"create table {SERVICES} (source_file varchar, row_number integer, applicant_id varchar, "
                "applicant_name varchar, applicant_phone varchar)")  # fmt: skip
    report = resolve_identities(con)
    for table in ("row_persons", "review_pairs", "persons", "applicant_persons"):
        assert con.execute(f"select count(*) from identity.{table}").fetchall() == [(0,)]
    assert report.persons == 0 and report.linkage_method == "none"


def test_applicants_by_id_cmnd_name_and_phone():
    con = duckdb.connect()
    citizens_table(
        con,
        [
            row(F1, 1, A, "Nguyễn Văn An", "1985-03-04", phone="0912345678", legacy="012345678"),
            row(F1, 2, B, "Lê Thị Lan", "1990-01-01", sex="F", phone="0987654321"),
            row(F1, 3, None, "Hoàng Văn Tư", "1950-01-01", phone="0900000001"),
        ],
    )
    con.execute(
        f"""create table {SERVICES} as select * from (values
            ('sr.csv', 1, '{A}', 'Nguyễn Văn An', null),
            ('sr.csv', 2, '{A[1:]}', 'Nguyễn Văn An', null),           -- lost its leading zero
            ('sr.csv', 3, '012345678', 'Nguyen Van An', null),        -- CMND
            ('sr.csv', 4, null, 'LÊ THỊ LAN', '0987654321'),          -- name and phone
            ('sr.csv', 5, null, 'Hoàng Văn Tư', '0900000001'),        -- a person without ID
            ('sr.csv', 6, '031199000000', 'Lê Thị Lan', '0987654321'), -- an outsider's own ID
            ('sr.csv', 7, null, 'Lê Thị Lan', null)                   -- name alone: not enough
        ) t(source_file, row_number, applicant_id, applicant_name, applicant_phone)"""
    )
    resolve_identities(con)
    got = dict(
        ((n), (k, m))
        for n, k, m in con.execute(
            "select row_number, applicant_person_key, match_method from identity.applicant_persons"
        ).fetchall()
    )
    person = keys(con)
    assert got[1] == got[2] == (id_key(con, A), "citizen_id")
    assert got[3] == (id_key(con, A), "legacy_id")
    assert got[4] == (id_key(con, B), "name_phone")
    assert got[5] == (person[(F1, 3)][0], "name_phone")
    assert got[6] == got[7] == (None, "none")


# --------------------------------------------------------------------------------------------
# A generated ward: the splink path.
# --------------------------------------------------------------------------------------------

PERSONS = 3000


def ward(snapshots: int = 2, extra=()) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema staging")
    make_citizens(con, CITIZENS, PERSONS, snapshots=snapshots, seed=5, id_loss=0.03, no_id_persons=0.02,
                  no_id_dirt=0.6, namesakes=0.03)  # fmt: skip
    if extra:
        con.executemany(f"insert into {CITIZENS} values ({', '.join('?' * 18)})", list(extra))
    return con


# Hand-built people appended to the generated ward (their own household, another group of files).
HAND = [
    row(F1, 90001, A, "Vũ Thị Ngọc Ánh", "1988-02-11", sex="F", hh="HO9100000", phone="0911111111", truth=-1),
    row(F2, 90001, None, "Vũ Thị Ngọc Ánh", "1988-02-11", sex="F", hh="HO9100000", truth=-1),  # sci. ID
    row(F1, 90002, B, "Đinh Công Tráng", "1979-03-05", hh="HO9100001", truth=-2),
    row(F2, 90002, None, "Đinh Công Tráng", "1979-05-03", hh="HO9100001", truth=-2),  # swapped
    # twins: same household, surname, birth date; the second lost its ID in snapshot 2
    row(F1, 90003, "031098000001", "Mạc Văn Long", "1998-06-20", hh="HO9100002", truth=-3),
    row(F1, 90004, "031098000002", "Mạc Văn Hổ", "1998-06-20", hh="HO9100002", truth=-4),
    row(F2, 90003, "031098000001", "Mạc Văn Long", "1998-06-20", hh="HO9100002", truth=-3),
    row(F2, 90004, None, "Mạc Văn Hổ", "1998-06-20", hh="HO9100002", truth=-4),
    # snapshot 2 lists one person twice: the copy keyed by hand, without ID, diacritics or phone
    row(
        F1,
        90005,
        "031090000005",
        "Lưu Thị Tuyết Nhung",
        "1990-09-14",
        sex="F",
        hh="HO9100003",
        phone="0912000005",
        truth=-5,
    ),
    row(
        F2,
        90005,
        "031090000005",
        "Lưu Thị Tuyết Nhung",
        "1990-09-14",
        sex="F",
        hh="HO9100003",
        phone="0912000005",
        truth=-5,
    ),
    row(F2, 90006, None, "Luu Thi Tuyet Nhung", "1990-09-14", sex="F", hh="HO9100003", truth=-5),
    # twins whose folded given names are one (Hùng / Hưng), both listed in snapshot 2, one without ID
    row(F1, 90007, "031001000007", "Khúc Văn Hùng", "2001-04-04", hh="HO9100004", truth=-7),
    row(F1, 90008, "031001000008", "Khúc Văn Hưng", "2001-04-04", hh="HO9100004", truth=-8),
    row(F2, 90007, "031001000007", "Khúc Văn Hùng", "2001-04-04", hh="HO9100004", truth=-7),
    row(F2, 90008, None, "Khúc Văn Hưng", "2001-04-04", hh="HO9100004", truth=-8),
    # two brothers of one name in one household; snapshot 2 lists the younger twice (a plain copy)
    row(F1, 90009, "031201000009", "Vũ Phú Hùng", "2001-09-08", hh="HO9100005", truth=-9),
    row(F1, 90010, "031203000010", "Vũ Phú Hùng", "2003-02-26", hh="HO9100005", truth=-10),
    row(F2, 90009, "031201000009", "Vũ Phú Hùng", "2001-09-08", hh="HO9100005", truth=-9),
    row(F2, 90010, "031203000010", "Vũ Phú Hùng", "2003-02-26", hh="HO9100005", truth=-10),
    row(F2, 90011, None, "Vu Phu Hung", "2003-02-26", hh="HO9100005", truth=-10),
    # a father and his son of one rare name in one household; the son never had an ID
    row(F1, 90012, "031051000012", "Âu Dương Đình Chiểu", "1951-07-10", hh="HO9100006", truth=-12),
    row(F1, 90013, None, "Âu Dương Đình Chiểu", "1987-04-04", hh="HO9100006", truth=-13),
    row(F2, 90012, "031051000012", "Âu Dương Đình Chiểu", "1951-07-10", hh="HO9100006", truth=-12),
    row(F2, 90013, None, "Âu Dương Đình Chiểu", "1987-04-04", hh="HO9100006", truth=-13),
]


@pytest.fixture(scope="module")
def resolved():
    con = ward(extra=HAND)
    report = resolve_identities(con, services_relation=None)
    return con, report


def test_a_person_listed_twice_in_one_snapshot_is_merged_and_twins_are_not(resolved):
    con, report = resolved
    k = keys(con)
    nhung = id_key(con, "031090000005")
    assert k[(F2, 90006)][0] == nhung and k[(F2, 90005)][0] == nhung
    assert k[(F2, 90006)][1] >= S.SAME_SNAPSHOT_LINK_THRESHOLD
    assert report.same_snapshot_links >= 1
    # the copy carries the younger brother's birth date: it is his, not a guess between the two
    assert k[(F2, 90011)][0] == id_key(con, "031203000010")
    # one name, one household, birth dates no slip explains: father and son stay two persons
    assert k[(F2, 90013)][0] != id_key(con, "031051000012")
    # Hùng and Hưng fold to one name: their diacritics tell the twins apart
    assert k[(F2, 90008)][0] != id_key(con, "031001000007")
    assert k[(F2, 90008)][0] == k[(F1, 90008)][0] == id_key(con, "031001000008")


def test_splink_links_scientific_id_and_swapped_date_to_the_id_person(resolved):
    con, report = resolved
    assert report.linkage_method == "splink" and report.linkage_unsettled >= S.MIN_UNSETTLED_TO_TRAIN
    k = keys(con)
    assert k[(F2, 90001)][0] == id_key(con, A) and k[(F2, 90001)][2] == "probabilistic"
    assert k[(F2, 90001)][1] >= S.LINK_THRESHOLD
    assert k[(F2, 90002)][0] == id_key(con, B)
    assert k[(F2, 90004)][0] == id_key(con, "031098000002")  # the twin joins himself, not his brother


def test_no_person_holds_two_valid_ids(resolved):
    con, _ = resolved
    assert con.execute(
        "select count(*) from (select p.person_key from identity.row_persons p "
        f"join {CITIZENS} c using (source_file, row_number) "
        "group by 1 having count(distinct c.citizen_id) > 1)"
    ).fetchall() == [(0,)]


def test_pairwise_precision_recall_f1_on_generated_truth(resolved):
    """Pairs with at least one row without ID (pairs of two ID rows are right by construction).

    This set (seed 5, 3,000 persons x 2 snapshots, ~280 rows without ID, each with a 60 % chance of
    a swapped date, a name typo and no phone, 30 % of a partial date and a stray household; 3 %
    namesakes): measured precision 1.000, recall 0.991, F1 0.996 (all pairs: F1 0.9997). Seeds 1-5 of the
    same recipe: precision 1.000, recall 0.964-0.992, F1 0.982-0.996. Floors below the worst."""
    con, _ = resolved
    con.execute(
        f"""create or replace temp table scored as
        select p.person_key, c.true_person, c.citizen_id is not null as has_id
        from identity.row_persons p join {CITIZENS} c using (source_file, row_number)"""
    )
    linkage = pairwise_scores(con, "scored", "person_key", "true_person", exclude_pairs_where="has_id")
    assert linkage.true_pairs > 100
    assert linkage.precision >= 0.99
    assert linkage.recall >= 0.95
    assert linkage.f1 >= 0.97
    everything = pairwise_scores(con, "scored", "person_key", "true_person")
    assert everything.f1 >= 0.995


def test_person_key_is_stable_across_rebuilds_and_new_snapshots(resolved):
    con, _ = resolved
    before = keys(con)

    rebuilt = ward(extra=HAND)
    resolve_identities(rebuilt, services_relation=None)
    assert keys(rebuilt) == before  # same data, same keys, confidences and methods

    grown = ward(snapshots=3, extra=HAND)  # the same two snapshots and a third one
    resolve_identities(grown, services_relation=None)
    after = keys(grown)
    assert set(before) < set(after)
    changed = [(r, before[r][0], after[r][0]) for r in before if before[r][0] != after[r][0]]
    # a key may only change when the new snapshot brings the person's 12-digit ID (the key becomes
    # the ID's); a person known by ID or still without one keeps theirs
    id_keys = {
        id_key(grown, c) for (c,) in grown.execute(f"select distinct citizen_id from {CITIZENS}").fetchall()
    }
    upgraded = {r for r, old, new in changed if old not in id_keys and new in id_keys}
    assert not [c for c in changed if c[0] not in upgraded]
    assert len(upgraded) <= 0.01 * len(before)


@pytest.mark.parametrize(
    ("left", "right", "agree"),
    [
        (("19900914", "day"), ("19900914", "day"), True),
        (("19900309", "day"), ("19900903", "day"), True),  # day and month swapped
        (("19900914", "day"), ("19900915", "day"), True),  # one digit keyed wrong
        (("19900101", "year"), ("19900914", "day"), True),  # 1990 and a day of 1990
        (("19900901", "month"), ("19900914", "day"), True),
        (("19510710", "day"), ("19870404", "day"), False),  # father and son
        (("19900101", "year"), ("19910914", "day"), False),
        ((None, "day"), ("19910914", "day"), True),
    ],
)
def test_birth_dates_that_a_keying_slip_explains(left, right, agree):
    from ward.identity.resolve import _birth_dates_agree

    assert _birth_dates_agree(*left, *right) is agree
