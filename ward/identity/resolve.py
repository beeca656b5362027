"""Kept citizens rows -> one identity per person (identity.row_persons, review_pairs, persons).

1. Kept rows: the staged rows without a `quarantine` issue in quality.row_issues.
2. Deterministic identity: a valid 12-digit ID is the person. A 9-digit CMND that some row carries
   beside exactly one 12-digit ID is that person too ('legacy_id'); a CMND seen with no 12-digit
   ID groups its rows as one person of its own; one seen beside two IDs (a data error) is used for
   neither.
3. Profiles: rows with the same identity (or none) and the same folded name, date of birth and
   precision, sex, household, phone and residential group are one *profile*: the same person
   listed in four snapshots is compared once, not 4 x 4 times (1,000,000 rows: ~310,000 profiles).
4. Probabilistic linkage (ward.identity.linkage, splink) scores pairs of profiles of which at
   least one has no 12-digit ID; the clustering (ward.identity.clustering) links them strongest
   first and never joins two different IDs (or two different CMNDs).
5. person_key, from data only (never a sequence), so a rebuild or a new snapshot keeps it:
       md5('person|' || identity), first 16 hex characters, where identity is
       'id:' || citizen_id            for a person with a valid 12-digit ID,
       'cmnd:' || legacy_id           else for a person known by a CMND,
       'row:' || fold(full_name) || '|' || date_of_birth || '|' || sex || '|' || household_id
                                      else, of the person's EARLIEST row (extract_date, source_file,
                                      row_number): a later snapshot never changes it.
   Two ID-less persons whose earliest rows agree on all four (never linked: e.g. refused) would
   share a key; the later one (by its earliest row) then adds '|' || source_file || ':' || row_number.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Mapping

import duckdb
import pyarrow as pa

from ward.identity import settings as S
from ward.identity.applicants import match_applicants, write_person_lookup
from ward.identity.clustering import cluster_groups
from ward.identity.linkage import LinkageResult, score_pairs
from ward.identity.names import name_evidence
from ward.identity.report import IdentityReport
from ward.identity.sql import columns_of, fold_sql, quarantine_anti_join, relation_exists

ROW_PERSONS_DDL = """
create or replace table identity.row_persons (
    source_file varchar not null,
    row_number integer not null,
    person_key varchar not null,
    match_confidence double not null,
    match_method varchar not null,
    file_sha256 varchar,
    extract_date date
)
"""

REVIEW_PAIRS_DDL = """
create or replace table identity.review_pairs (
    left_source_file varchar, left_row_number integer, left_file_sha256 varchar,
    right_source_file varchar, right_row_number integer, right_file_sha256 varchar,
    match_probability double, reason varchar,
    left_person_key varchar, right_person_key varchar,
    left_citizen_id varchar, right_citizen_id varchar,
    left_full_name varchar, right_full_name varchar,
    left_date_of_birth date, right_date_of_birth date,
    left_date_of_birth_precision varchar, right_date_of_birth_precision varchar,
    left_sex varchar, right_sex varchar,
    left_household_id varchar, right_household_id varchar,
    left_phone varchar, right_phone varchar
)
"""


def resolve_identities(
    con: duckdb.DuckDBPyConnection,
    citizens_relation: str = "staging.stg_landing__citizens",
    services_relation: str | None = "staging.stg_landing__service_records",
    *,
    quarantine_relation: str = "quality.row_issues",
    threads: int | None = None,
    duckdb_settings: Mapping[str, str] | None = None,
) -> IdentityReport:
    """Resolve every kept citizens row to a person; write schema `identity` (see module docstring).

    Tables written: identity.row_persons, identity.review_pairs, identity.persons and
    identity.applicant_persons (service-record rows -> applicant_person_key).
    """
    started = time.perf_counter()
    report = IdentityReport()
    con.execute("create schema if not exists identity")
    _kept_rows(con, citizens_relation, quarantine_relation, report)
    _deterministic(con)
    records = con.sql(_RECORDS_SQL).to_arrow_table()
    report.seconds["prepare"] = time.perf_counter() - started

    linkage = score_pairs(records, threads=threads, duckdb_settings=duckdb_settings)
    report.absorb_linkage(linkage)

    step = time.perf_counter()
    _cluster(con, linkage, report)
    _write_outputs(con, linkage, report)
    report.seconds["cluster_and_write"] = time.perf_counter() - step

    step = time.perf_counter()
    write_person_lookup(con)
    if services_relation and relation_exists(con, services_relation):
        match_applicants(con, services_relation, quarantine_relation, report)
    else:
        match_applicants(con, None, quarantine_relation, report)
        if services_relation:
            report.notes.append(f"{services_relation} not found: identity.applicant_persons is empty")
    report.seconds["applicants"] = time.perf_counter() - step
    for table in (
        "_identity_rows",
        "_identity_profiles",
        "_identity_clusters",
        "_identity_pairs",
        "_identity_resolved",
    ):
        con.execute(f"drop table if exists {table}")
    report.seconds["total"] = time.perf_counter() - started
    return report


def match_new_applicants(
    con: duckdb.DuckDBPyConnection,
    services_relation: str = "staging.stg_landing__service_records",
    *,
    quarantine_relation: str = "quality.row_issues",
) -> IdentityReport:
    """The incremental path: the citizens are as last resolved; match the new dossier rows only."""
    started = time.perf_counter()
    report = IdentityReport()
    match_applicants(con, services_relation, quarantine_relation, report, new_files_only=True)
    report.seconds["applicants"] = report.seconds["total"] = time.perf_counter() - started
    return report


# ---------------------------------------------------------------------------------------------


def _kept_rows(con, citizens: str, quarantine: str, report: IdentityReport) -> None:
    cols = columns_of(con, citizens)
    sha = "file_sha256" in cols
    status = "citizen_id_status = 'valid' and " if "citizen_id_status" in cols else ""

    def col(name: str, cast: str = "varchar") -> str:
        return f"cast({name} as {cast})" if name in cols else f"cast(null as {cast})"

    anti = quarantine_anti_join(con, quarantine, "c", sha)
    con.execute(
        f"""
        create or replace temp table _identity_rows as
        select
            row_number() over (order by c.extract_date, c.source_file, c.row_number, {col("file_sha256")})
                as row_idx,
            c.source_file, cast(c.row_number as integer) as row_number, {col("file_sha256")} as file_sha256,
            cast(c.extract_date as date) as extract_date,
            case when {status}regexp_full_match(cast(c.citizen_id as varchar), '[0-9]{{12}}')
                 then cast(c.citizen_id as varchar) end as cid,
            case when regexp_full_match({col("legacy_id")}, '[0-9]{{9}}') then {col("legacy_id")} end as cmnd,
            c.full_name,
            {fold_sql("c.full_name")} as name_fold,
            cast(c.date_of_birth as date) as date_of_birth,
            coalesce({col("date_of_birth_precision")}, 'day') as dob_precision,
            {col("sex")} as sex,
            {col("household_id")} as household_id,
            {col("phone")} as phone,
            {col("residential_group_no")} as area
        from {citizens} c
        {anti}
        """
    )
    total = con.execute(f"select count(*) from {citizens}").fetchall()[0][0]
    report.rows_kept = con.execute("select count(*) from _identity_rows").fetchall()[0][0]
    report.rows_excluded = total - report.rows_kept


def _deterministic(con) -> None:
    """Identity by ID and CMND; profiles (see module docstring, steps 2-3)."""
    con.execute(
        """
        create or replace temp table _identity_rows as
        with cmnd_map as (
            select cmnd, min(cid) as mapped_cid
            from _identity_rows where cid is not null and cmnd is not null
            group by cmnd having count(distinct cid) = 1
        ),
        anchored as (
            select r.*,
                coalesce(r.cid, m.mapped_cid) as cid_eff,
                case when r.cid is null and m.mapped_cid is null then r.cmnd end as cmnd_anchor
            from _identity_rows r left join cmnd_map m on r.cid is null and r.cmnd = m.cmnd
        ),
        keyed as (
            select *,
                case when cid_eff is not null then 'id:' || cid_eff
                     when cmnd_anchor is not null then 'cmnd:' || cmnd_anchor end as anchor
            from anchored
        ),
        profiled as (
            -- a profile is numbered by its first row (row_idx): unique, and the same every run
            select *, min(row_idx) over (
                partition by anchor, name_fold, date_of_birth, dob_precision, sex, household_id, phone, area
            ) as profile_id
            from keyed
        )
        select * from profiled
        """
    )
    # group = all profiles of one anchor, or a profile alone; numbered by its first profile.
    con.execute(
        """
        create or replace temp table _identity_profiles as
        with p as (
            select profile_id, any_value(anchor) as anchor, bool_or(cid_eff is not null) as settled,
                any_value(cid_eff) as cid_eff, list(distinct cmnd) filter (where cmnd is not null) as cmnds,
                list(distinct cast(extract_date as varchar)) as snapshots,
                min(row_idx) as first_row
            from _identity_rows group by profile_id
        )
        select *, min(profile_id) over (partition by coalesce(anchor, 'p:' || profile_id)) as group_id
        from p
        """
    )


_RECORDS_SQL = """
select
    p.profile_id as unique_id, p.anchor, p.settled,
    nullif(split_part(r.name_fold, ' ', 1), '') as surname,
    nullif(substr(r.name_fold, length(split_part(r.name_fold, ' ', 1)) + 2), '') as given_name,
    strftime(r.date_of_birth, '%Y%m%d') as dob_text,
    r.dob_precision, r.sex, r.household_id, r.phone, r.area
from _identity_profiles p join _identity_rows r on r.row_idx = p.first_row
order by p.profile_id
"""


def _cluster(con, linkage: LinkageResult, report: IdentityReport) -> None:
    """Links -> clusters of groups (_identity_clusters: group_id, cluster_id) and per-profile
    strongest accepted link (_identity_pairs keeps the scored pairs for review)."""
    con.register("_identity_pairs_in", linkage.pairs)
    con.execute("create or replace temp table _identity_pairs as select * from _identity_pairs_in")
    con.unregister("_identity_pairs_in")
    touched = con.execute(
        """
        select profile_id, group_id, cid_eff, cmnds, snapshots from _identity_profiles
        where group_id in (
            select p.group_id from _identity_profiles p
            join (
                select unique_id_l as id from _identity_pairs union select unique_id_r from _identity_pairs
            ) t on t.id = p.profile_id
        )
        """
    ).fetchall()
    group_of = {profile: group for profile, group, *_ in touched}
    anchors: dict[int, dict[str, frozenset[str]]] = {}
    for _, group, cid, cmnds, snapshots in touched:
        held = anchors.setdefault(group, {"id": frozenset(), "cmnd": frozenset(), "snapshot": frozenset()})
        if cid:
            held["id"] = held["id"] | {cid}
        if cmnds:
            held["cmnd"] = held["cmnd"] | set(cmnds)
        held["snapshot"] = held["snapshot"] | set(snapshots)
    pairs = linkage.pairs.to_pydict()
    links = list(zip(pairs["unique_id_l"], pairs["unique_id_r"], pairs["match_probability"], strict=True))
    threshold = _link_threshold(linkage)
    # exact-match pairs are links by definition; a splink link within one snapshot needs more
    same_snapshot_threshold = threshold if linkage.method == "exact" else S.SAME_SNAPSHOT_LINK_THRESHOLD
    clustering = cluster_groups(
        links,
        anchors,
        threshold,
        group_of,
        conflicts=_two_people_evidence(con, threshold)
        | _ambiguous_links(links, group_of, anchors, same_snapshot_threshold),
        same_snapshot_threshold=same_snapshot_threshold,
    )
    report.links_accepted = clustering.accepted
    report.links_refused = len(clustering.refused)
    report.same_snapshot_links = len(clustering.same_snapshot)

    clusters = pa.table(
        {
            "group_id": pa.array(list(clustering.root), pa.int64()),
            "cluster_id": pa.array(list(clustering.root.values()), pa.int64()),
        }
    )
    strongest = pa.table(
        {
            "profile_id": pa.array(list(clustering.link_probability), pa.int64()),
            "link_probability": pa.array(list(clustering.link_probability.values()), pa.float64()),
        }
    )
    refused = pa.table(
        {
            "unique_id_l": pa.array([min(a, b) for a, b, _, _ in clustering.refused], pa.int64()),
            "unique_id_r": pa.array([max(a, b) for a, b, _, _ in clustering.refused], pa.int64()),
            "broken": pa.array([kind for *_, kind in clustering.refused], pa.string()),
        }
    )
    con.register("_clusters_in", clusters)
    con.register("_strongest_in", strongest)
    con.register("_refused_in", refused)
    con.execute(
        """
        create or replace temp table _identity_clusters as
        select p.profile_id, p.group_id, coalesce(c.cluster_id, p.group_id) as cluster_id, s.link_probability
        from _identity_profiles p
        left join _clusters_in c on c.group_id = p.group_id
        left join _strongest_in s on s.profile_id = p.profile_id
        """
    )
    con.execute(
        """
        create or replace temp table _identity_pairs as
        select x.*, f.broken as refused
        from _identity_pairs x left join _refused_in f
          on f.unique_id_l = least(x.unique_id_l, x.unique_id_r)
         and f.unique_id_r = greatest(x.unique_id_l, x.unique_id_r)
        """
    )
    for name in ("_clusters_in", "_strongest_in", "_refused_in"):
        con.unregister(name)


def _two_people_evidence(con, threshold: float) -> frozenset[tuple[int, int]]:
    """Linkable pairs that cannot be one person listed twice in one snapshot: two households (a row
    keyed again by hand is keyed in its household; namesakes live in others), two birth dates no
    keying slip explains (a father and son of one name), names that as delivered are those of two
    people (ward.identity.names), or names one letter apart (`An` / `Anh`) where the row without ID
    is listed in more than one snapshot (a person over time, not a one-off copy) or the two carry
    different phones."""
    named = con.execute(
        f"""
        select least(x.unique_id_l, x.unique_id_r), greatest(x.unique_id_l, x.unique_id_r),
            l.household_id is distinct from r.household_id,
            l.phone is not null and r.phone is not null and l.phone <> r.phone,
            (not pl.settled and len(pl.snapshots) > 1) or (not pr.settled and len(pr.snapshots) > 1),
            l.full_name, r.full_name,
            strftime(l.date_of_birth, '%Y%m%d'), l.dob_precision,
            strftime(r.date_of_birth, '%Y%m%d'), r.dob_precision
        from _identity_pairs x
        join _identity_profiles pl on pl.profile_id = x.unique_id_l
        join _identity_rows l on l.row_idx = pl.first_row
        join _identity_profiles pr on pr.profile_id = x.unique_id_r
        join _identity_rows r on r.row_idx = pr.first_row
        where x.match_probability >= {threshold}
        """
    ).fetchall()
    out = set()
    for a, b, other_household, other_phone, lasting, left, right, *dobs in named:
        evidence = name_evidence(left, right)
        if (
            other_household
            or not _birth_dates_agree(*dobs)
            or evidence == "two"
            or (evidence == "near" and (other_phone or lasting))
        ):
            out.add((a, b))
    return frozenset(out)


def _birth_dates_agree(
    left: str | None, left_precision: str, right: str | None, right_precision: str
) -> bool:
    """The same date once a keying slip is undone: equal, day and month swapped, one digit off, or a
    partial date (yyyy, mm/yyyy: stored as the period's first day) that the other date falls in."""
    if not left or not right:
        return True
    if left_precision != "day" or right_precision != "day":
        width = 4 if "year" in (left_precision, right_precision) else 6
        return left[:width] == right[:width]
    swapped = left[:4] + left[6:8] + left[4:6]
    return left == right or swapped == right or sum(x != y for x, y in zip(left, right, strict=True)) == 1


def _ambiguous_links(links, group_of, anchors, threshold: float) -> frozenset[tuple[int, int]]:
    """Links of a record that resembles two different ID persons about equally (their match weights
    within AMBIGUITY_MARGIN_BITS): which one it copies is a guess, so within one snapshot it joins
    neither (the pairs go to review). A record far closer to one of them (two brothers of one name,
    the copy carrying one's birth date) is no guess: the strongest link wins as usual."""
    best: dict[int, dict[int, float]] = {}
    for a, b, p in links:
        if p < threshold:
            continue
        for x, y in ((a, b), (b, a)):
            group = group_of.get(y, y)
            if anchors.get(group, {}).get("id"):
                by_group = best.setdefault(x, {})
                by_group[group] = max(p, by_group.get(group, 0.0))
    ambiguous = set()
    for x, by_group in best.items():
        if len(by_group) > 1:
            first, second = sorted(by_group.values(), reverse=True)[:2]
            if _match_weight(first) - _match_weight(second) < S.AMBIGUITY_MARGIN_BITS:
                ambiguous.add(x)
    return frozenset(
        (min(a, b), max(a, b)) for a, b, p in links if p >= threshold and (a in ambiguous or b in ambiguous)
    )


def _match_weight(p: float) -> float:
    """log2 of the odds; probabilities are rounded to 6 decimals, so 1.0 counts as 1 - 5e-7."""
    p = min(max(p, 5e-7), 1 - 5e-7)
    return math.log2(p / (1 - p))


def _link_threshold(linkage: LinkageResult) -> float:
    """Exact-match pairs are links by definition; splink pairs from LINK_THRESHOLD up."""
    return 0.0 if linkage.method == "exact" else S.LINK_THRESHOLD


def _write_outputs(con, linkage: LinkageResult, report: IdentityReport) -> None:
    link_method = "exact_attributes" if linkage.method == "exact" else "probabilistic"
    con.execute(
        f"""
        create or replace temp table _identity_resolved as
        with r as (
            select r.*, c.cluster_id, c.link_probability
            from _identity_rows r join _identity_clusters c using (profile_id)
        ),
        per_cluster as (
            select cluster_id,
                min(cid_eff) as cluster_cid,
                min(cmnd_anchor) as cluster_cmnd,
                arg_min(
                    'row:' || coalesce(name_fold, '') || '|' || coalesce(cast(date_of_birth as varchar), '')
                    || '|' || coalesce(sex, '') || '|' || coalesce(household_id, ''),
                    row_idx
                ) as row_identity,
                arg_min(source_file || ':' || row_number, row_idx) as first_row_ref,
                min(row_idx) as first_row
            from r group by cluster_id
        ),
        identities as (
            select *,
                case when cluster_cid is not null then 'id:' || cluster_cid
                     when cluster_cmnd is not null then 'cmnd:' || cluster_cmnd
                     else row_identity end as base_identity
            from per_cluster
        ),
        unique_identities as (
            select cluster_id, cluster_cid,
                case when row_number() over (partition by base_identity order by first_row) = 1
                     then base_identity else base_identity || '|' || first_row_ref end as person_identity
            from identities
        )
        select r.row_idx, r.source_file, r.row_number, r.file_sha256, r.extract_date, r.profile_id,
            r.cid, r.cmnd, r.full_name, r.date_of_birth, r.dob_precision, r.sex, r.household_id, r.phone,
            r.name_fold, u.person_identity, u.cluster_cid,
            r.cid_eff is not null as settled, r.link_probability,
            substr(md5('person|' || u.person_identity), 1, 16) as person_key,
            case
                when r.cid is not null then 'citizen_id'
                when r.cid_eff is not null then 'legacy_id'
                when r.cmnd_anchor is not null and u.cluster_cid is null then 'legacy_id'
                when r.link_probability is not null then '{link_method}'
                else 'unmatched'
            end as match_method,
            case
                when r.cid is not null then {S.CONFIDENCE_CITIZEN_ID}
                when r.cid_eff is not null then {S.CONFIDENCE_LEGACY_ID}
                when r.cmnd_anchor is not null and u.cluster_cid is null then {S.CONFIDENCE_LEGACY_ID}
                when r.link_probability is not null then r.link_probability
                else {S.CONFIDENCE_UNMATCHED}
            end as match_confidence
        from r join unique_identities u using (cluster_id)
        """
    )
    con.execute(ROW_PERSONS_DDL)
    con.execute(
        """
        insert into identity.row_persons
        select source_file, row_number, person_key, cast(match_confidence as double), match_method,
               file_sha256, extract_date
        from _identity_resolved order by row_idx
        """
    )
    con.execute(
        """
        create or replace table identity.persons as
        select person_key,
            min(cluster_cid) as citizen_id,
            min(cmnd) as legacy_id,
            case when min(cluster_cid) is not null then 'citizen_id'
                 when person_identity like 'cmnd:%' then 'legacy_id' else 'row' end as identity_kind,
            cast(count(*) as integer) as source_row_count,
            min(match_confidence) as match_confidence,
            min(extract_date) as first_extract_date,
            max(extract_date) as last_extract_date
        from _identity_resolved group by person_key, person_identity
        order by person_key
        """
    )
    _write_review_pairs(con, _link_threshold(linkage))
    report.persons = con.execute("select count(*) from identity.persons").fetchall()[0][0]
    report.persons_with_citizen_id = con.execute(
        "select count(*) from identity.persons where citizen_id is not null"
    ).fetchall()[0][0]
    report.rows_by_method = dict(
        Counter(
            dict(con.execute("select match_method, count(*) from identity.row_persons group by 1").fetchall())
        )
    )
    report.review_pairs = con.execute("select count(*) from identity.review_pairs").fetchall()[0][0]


def _write_review_pairs(con, link_threshold: float) -> None:
    """Pairs for a steward, each profile shown by its earliest row: uncertain pairs (REVIEW_THRESHOLD
    <= p < LINK_THRESHOLD) and refused links (two IDs, two CMNDs, two names of one snapshot) between
    two different persons, where a side without ID is not already linked more surely elsewhere
    (its strongest link is below max(p, REVIEW_UNLESS_LINKED_AT)): a row linked to its own ID at
    0.9999 need not be reviewed against a brother who scores 0.4."""
    con.execute(REVIEW_PAIRS_DDL)
    side = "{s}.source_file, {s}.row_number, {s}.file_sha256"
    fields = (
        "person_key",
        "cid",
        "full_name",
        "date_of_birth",
        "dob_precision",
        "sex",
        "household_id",
        "phone",
    )
    select_fields = ", ".join(f"l.{f}, r.{f}" for f in fields)
    con.execute(
        f"""
        insert into identity.review_pairs
        with first_rows as (
            select * from _identity_resolved
            qualify row_number() over (partition by profile_id order by row_idx) = 1
        )
        select {side.format(s="l")}, {side.format(s="r")}, x.match_probability,
            case x.refused
                when 'id' then 'refused: would join two different citizen IDs'
                when 'cmnd' then 'refused: would join two different CMNDs'
                when 'snapshot' then 'refused: listed in one snapshot, not surely one person'
                else 'uncertain: below the link threshold' end as reason,
            {select_fields}
        from _identity_pairs x
        join first_rows l on l.profile_id = x.unique_id_l
        join first_rows r on r.profile_id = x.unique_id_r
        where l.person_key <> r.person_key
          and (x.refused is not null or x.match_probability < {link_threshold})
          and x.match_probability >= {S.REVIEW_THRESHOLD}
          and (
              (not l.settled and coalesce(l.link_probability, 0)
                  < greatest(x.match_probability, {S.REVIEW_UNLESS_LINKED_AT}))
              or (not r.settled and coalesce(r.link_probability, 0)
                  < greatest(x.match_probability, {S.REVIEW_UNLESS_LINKED_AT}))
          )
        order by x.match_probability desc, l.row_idx, r.row_idx
        """
    )
