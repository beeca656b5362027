"""Person identity for citizen rows: valid ID, then legacy CMND, then splink (or deterministic) matching."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
from splink import block_on

from ward.identity.model import build_settings, train_and_predict

UPPER = 0.9
LOWER = 0.5
MIN_ROWS_FOR_TRAINING = 50
UNMATCHED_CONFIDENCE = 0.5
DETERMINISTIC_EXACT = 0.99
DETERMINISTIC_SWAPPED = 0.95


def fold_sql(expr: str) -> str:
    """Lowercase, no diacritics, đ→d, single spaces."""
    return (
        f"nullif(trim(regexp_replace(lower(strip_accents(replace(replace({expr}, 'đ', 'd'), 'Đ', 'D'))), "
        f"'\\s+', ' ', 'g')), '')"
    )


@dataclass
class IdentityReport:
    rows: int = 0
    persons: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    no_id_rows: int = 0
    linking: str = "none"  # 'splink', 'deterministic' (too few no-ID rows to train) or 'none'
    merged_links: int = 0
    review_pairs: int = 0
    rejected_conflicts: int = 0
    notes: list[str] = field(default_factory=list)


class _Clusters:
    """Union-find over anchors, refusing any union that would hold two different IDs (or two CMNDs)."""

    def __init__(self, ids: dict[str, str | None], cmnds: dict[str, str | None]):
        self.parent = {a: a for a in ids}
        self.ids = dict(ids)
        self.cmnds = dict(cmnds)

    def find(self, a: str) -> str:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: str, b: str) -> bool | None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        for attr in (self.ids, self.cmnds):
            if attr[ra] and attr[rb] and attr[ra] != attr[rb]:
                return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.ids[ra] = self.ids[ra] or self.ids[rb]
        self.cmnds[ra] = self.cmnds[ra] or self.cmnds[rb]
        return True


def _create_outputs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists identity")
    con.execute(
        "create or replace table identity.row_persons (source_file varchar, row_number integer, "
        "file_sha256 varchar, person_key varchar, match_confidence double, match_method varchar)"
    )
    con.execute(
        "create or replace table identity.review_pairs (source_file varchar, row_number integer, "
        "candidate_person_key varchar, match_probability double)"
    )


def _stage_rows(con: duckdb.DuckDBPyConnection, citizens: str) -> None:
    con.execute(
        f"""
        create or replace temp table _idr_rows as
        with src as (
            select *, row_number() over (order by extract_date, source_file, row_number) as uid
            from {citizens}
        ),
        legacy_map as (  -- a legacy_id links only when it points at exactly one valid ID
            select legacy_id, min(citizen_id) as citizen_id
            from src where legacy_id is not null and citizen_id is not null
            group by legacy_id having count(distinct citizen_id) = 1
        )
        select s.uid, s.source_file, s.row_number::integer as row_number, s.file_sha256, s.extract_date,
               s.citizen_id, s.legacy_id, s.sex, s.household_id, s.phone,
               {fold_sql("s.full_name")} as name,
               strftime(s.date_of_birth, '%Y%m%d') as dob,
               s.date_of_birth,
               coalesce(s.citizen_id, m.citizen_id) as anchor_id,
               case when s.citizen_id is not null then 'citizen_id'
                    when m.citizen_id is not null then 'legacy_id' end as id_method,
               case when s.citizen_id is not null then 'id:' || s.citizen_id
                    when m.citizen_id is not null then 'id:' || m.citizen_id
                    when s.legacy_id is not null then 'cmnd:' || s.legacy_id
                    else 'row:' || s.uid end as anchor
        from src s left join legacy_map m using (legacy_id)
        """
    )


def _deterministic_pairs(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int, float]]:
    return con.execute(
        f"""
        select l.uid, r.uid,
               case when l.dob = r.dob then {DETERMINISTIC_EXACT} else {DETERMINISTIC_SWAPPED} end
        from _idr_rows l join _idr_rows r
          on l.uid < r.uid and l.name = r.name and l.sex = r.sex and l.household_id = r.household_id
         and (l.dob = r.dob or (substr(l.dob, 1, 4) = substr(r.dob, 1, 4)
              and substr(l.dob, 5, 2) = substr(r.dob, 7, 2) and substr(l.dob, 7, 2) = substr(r.dob, 5, 2)))
        where (l.citizen_id is null or r.citizen_id is null) and l.anchor <> r.anchor
        """
    ).fetchall()


def _splink_pairs(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int, float]]:
    # Rows with an ID collapse to distinct profiles; every no-ID row stays its own record.
    profiles = con.execute(
        """
        select min(uid)::varchar as unique_id, name, dob, sex, household_id::varchar as household_id,
               phone, citizen_id
        from (select *, case when citizen_id is null then uid end as own from _idr_rows) t
        group by name, dob, sex, household_id, phone, citizen_id, own
        order by min(uid)
        """
    ).df()
    one_side_unknown = "(l.citizen_id is null or r.citizen_id is null)"
    rules = [
        f"l.name = r.name and {one_side_unknown}",
        f"l.dob = r.dob and l.sex = r.sex and {one_side_unknown}",
        f"l.household_id = r.household_id and {one_side_unknown}",
        f"l.phone = r.phone and {one_side_unknown}",
    ]
    settings = build_settings(
        "dedupe_only", exact_cols=["sex", "household_id", "phone"], blocking=rules
    )
    settings.additional_columns_to_retain = ["citizen_id"]
    pred = train_and_predict(
        [profiles],
        settings,
        threshold=LOWER,
        em_blocking=[block_on("name"), block_on("dob", "sex"), block_on("household_id")],
    )
    # A profile's unique_id is the smallest uid among its rows, so it maps back to that row's anchor.
    cols = pred.select(["unique_id_l", "unique_id_r", "match_probability"]).to_pydict()
    return [
        (int(a), int(b), float(p))
        for a, b, p in zip(cols["unique_id_l"], cols["unique_id_r"], cols["match_probability"], strict=True)
    ]


def resolve_identities(
    con: duckdb.DuckDBPyConnection, citizens: str = "intermediate.int_citizens__kept_rows"
) -> IdentityReport:
    report = IdentityReport()
    _create_outputs(con)
    _stage_rows(con, citizens)
    rows = con.execute(
        "select uid, anchor, anchor_id, legacy_id, citizen_id from _idr_rows order by uid"
    ).fetchall()
    report.rows = len(rows)
    if not rows:
        report.notes.append("empty input")
        return report
    report.no_id_rows = sum(1 for r in rows if r[4] is None)
    anchor_of = {r[0]: r[1] for r in rows}
    ids: dict[str, str | None] = {}
    cmnds: dict[str, str | None] = {}
    for _, anchor, anchor_id, legacy_id, _cid in rows:
        ids.setdefault(anchor, anchor_id)
        cmnds.setdefault(anchor, legacy_id if anchor.startswith("cmnd:") else None)

    pairs: list[tuple[int, int, float]] = []
    if report.no_id_rows == 0:
        report.linking = "none"
    elif report.no_id_rows < MIN_ROWS_FOR_TRAINING:
        report.linking = "deterministic"
        report.notes.append(
            f"{report.no_id_rows} rows without ID (< {MIN_ROWS_FOR_TRAINING}): splink training skipped, "
            "deterministic matching on folded name + dob (or day/month swapped) + sex + household"
        )
        pairs = _deterministic_pairs(con)
    else:
        report.linking = "splink"
        pairs = _splink_pairs(con)

    clusters = _Clusters(ids, cmnds)
    link_prob: dict[str, float] = {}
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    for a, b, p in pairs:
        if p < UPPER:
            continue
        ok = clusters.union(anchor_of[a], anchor_of[b])
        if ok:
            report.merged_links += 1
            for anchor in (anchor_of[a], anchor_of[b]):
                if not anchor.startswith("id:"):
                    link_prob[anchor] = max(link_prob.get(anchor, 0.0), p)
        elif ok is False:
            report.rejected_conflicts += 1

    method = "splink" if report.linking == "splink" else "deterministic"
    assign = []
    for uid, anchor, _aid, _leg, _cid in rows:
        root = clusters.find(anchor)
        if anchor.startswith("id:"):
            conf, how = 1.0, None  # 'citizen_id' or 'legacy_id' from staging
        elif anchor in link_prob:
            conf, how = link_prob[anchor], method
        elif anchor.startswith("cmnd:"):
            conf, how = 1.0, "legacy_id"
        else:
            conf, how = UNMATCHED_CONFIDENCE, "row"
        assign.append((uid, root, conf, how))
    con.execute("create or replace temp table _idr_assign (uid bigint, root varchar, conf double, how varchar)")
    con.executemany("insert into _idr_assign values (?, ?, ?, ?)", assign)
    con.execute(
        """
        create or replace temp table _idr_keyed as
        with j as (select r.*, a.root, a.conf, a.how from _idr_rows r join _idr_assign a using (uid)),
        k as (
            select root,
                   max(anchor_id) as cid,
                   max(case when anchor like 'cmnd:%' then legacy_id end) as cmnd,
                   arg_min('person|row:' || coalesce(name, '') || '|' || coalesce(date_of_birth::varchar, '')
                           || '|' || coalesce(sex, '') || '|' || coalesce(household_id::varchar, ''), uid)
                       as first_row
            from j group by root
        )
        select j.uid, j.source_file, j.row_number, j.file_sha256, j.conf, coalesce(j.how, j.id_method) as how,
               substr(md5(case when k.cid is not null then 'person|id:' || k.cid
                               when k.cmnd is not null then 'person|cmnd:' || k.cmnd
                               else k.first_row end), 1, 16) as person_key
        from j join k using (root)
        """
    )
    con.execute(
        "insert into identity.row_persons select source_file, row_number, file_sha256, person_key, conf, how "
        "from _idr_keyed order by uid"
    )
    review = {}
    for a, b, p in pairs:
        for x, y in ((a, b), (b, a)):
            # Below the upper threshold, or refused because it would join two IDs: a person decides.
            if ids[anchor_of[x]] is None and clusters.find(anchor_of[x]) != clusters.find(anchor_of[y]):
                review[(x, y)] = max(review.get((x, y), 0.0), p)
    con.execute("create or replace temp table _idr_review (x bigint, y bigint, p double)")
    if review:
        con.executemany("insert into _idr_review values (?, ?, ?)", [(x, y, p) for (x, y), p in review.items()])
    con.execute(
        """
        insert into identity.review_pairs
        select kx.source_file, kx.row_number, ky.person_key, max(v.p)
        from _idr_review v join _idr_keyed kx on kx.uid = v.x join _idr_keyed ky on ky.uid = v.y
        where kx.person_key <> ky.person_key
        group by all order by 1, 2, 3
        """
    )
    report.review_pairs = con.execute("select count(*) from identity.review_pairs").fetchone()[0]
    report.persons = con.execute("select count(distinct person_key) from identity.row_persons").fetchone()[0]
    report.by_method = dict(
        con.execute("select match_method, count(*) from identity.row_persons group by 1 order by 1").fetchall()
    )
    for t in ("_idr_rows", "_idr_assign", "_idr_keyed", "_idr_review"):
        con.execute(f"drop table if exists {t}")
    return report
