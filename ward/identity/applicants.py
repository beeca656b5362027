"""Service-record rows -> the person who applied (identity.applicant_persons).

In order, the first that gives exactly one person:
1. applicant_id (the cleaned one, else applicant_id_raw as delivered) is a valid 12-digit ID of a
   person (10-11 digits: leading zeros lost in Excel, padded back) -> 'citizen_id', confidence 1.0;
2. applicant_id is a 9-digit CMND of a person -> 'legacy_id', CONFIDENCE_LEGACY_ID;
3. the folded applicant name and the phone equal a person's (on any of their rows), and that
   person is the only one with this name and phone -> 'name_phone', CONFIDENCE_NAME_PHONE. Not
   taken when the applicant gave a 12-digit ID that belongs to nobody in the ward and the person
   found has an ID: someone from outside the ward is not matched to a resident by name.
Otherwise the applicant_person_key is null (method 'none'). Quarantined service rows are left out.
"""

from __future__ import annotations

from collections import Counter

from ward.identity import settings as S
from ward.identity.sql import columns_of, fold_sql, quarantine_anti_join

CONFIDENCE_NAME_PHONE = 0.9

APPLICANT_PERSONS_DDL = """
create or replace table identity.applicant_persons (
    source_file varchar not null,
    row_number integer not null,
    applicant_person_key varchar,
    match_confidence double,
    match_method varchar not null,
    file_sha256 varchar
)
"""


# The persons' matching keys (one row per kept citizens row), kept between runs so that a new
# service-record extract is matched without resolving the citizens again.
PERSON_LOOKUP = "identity.person_lookup"


def write_person_lookup(con) -> None:
    """Keep _identity_resolved's matching keys (ward.identity.resolve) as identity.person_lookup."""
    con.execute(
        f"create or replace table {PERSON_LOOKUP} as "
        "select cid, cmnd, name_fold, phone, person_key, cluster_cid from _identity_resolved"
    )


def match_applicants(
    con, services: str | None, quarantine: str, report, *, new_files_only: bool = False
) -> None:
    """Write identity.applicant_persons from identity.person_lookup.

    new_files_only: keep the rows already matched and add the service-record files not matched yet
    (and those the quality step evaluated again this run): the incremental path of a daily extract.
    """
    if not new_files_only:
        con.execute(APPLICANT_PERSONS_DDL)
    if services is None:
        return
    cols = columns_of(con, services)
    sha = "file_sha256" in cols

    def col(name: str) -> str:
        return f"cast(s.{name} as varchar)" if name in cols else "cast(null as varchar)"

    anti = quarantine_anti_join(con, quarantine, "s", sha)
    only_new = ""
    if new_files_only:
        con.execute(
            "delete from identity.applicant_persons as a using quality.pending_files as p "
            "where p.source = 'service_records' and p.file_sha256 is not distinct from a.file_sha256"
        )
        only_new = (
            "where s.file_sha256 not in "
            "(select distinct file_sha256 from identity.applicant_persons where file_sha256 is not null)"
        )
    con.execute(
        f"""
        insert into identity.applicant_persons
        with sr as (
            select s.source_file, cast(s.row_number as integer) as row_number,
                {col("file_sha256")} as file_sha256,
                regexp_replace(
                    coalesce({col("applicant_id")}, {col("applicant_id_raw")}, ''), '[\\s.\\-]', '', 'g'
                ) as aid,
                {fold_sql(col("applicant_name"))} as name_fold,
                {col("applicant_phone")} as phone
            from {services} s {anti}
            {only_new}
        ),
        ids as (
            select *,
                case when regexp_full_match(aid, '[0-9]{{10,12}}') then lpad(aid, 12, '0') end as aid12,
                case when regexp_full_match(aid, '[0-9]{{9}}') then aid end as aid9
            from sr
        ),
        -- Each key's persons, for the keys these rows carry only (a daily extract has few).
        by_cid as (select cid, min(person_key) as person_key from identity.person_lookup
                   where cid in (select aid12 from ids) group by cid),
        by_cmnd as (select cmnd, min(person_key) as person_key from identity.person_lookup
                    where cmnd in (select aid9 from ids)
                    group by cmnd having count(distinct person_key) = 1),
        by_name_phone as (
            select name_fold, phone, min(person_key) as person_key, bool_or(cluster_cid is not null) as has_id
            from identity.person_lookup
            where name_fold is not null and phone is not null
              and (name_fold, phone) in (select (name_fold, phone) from ids)
            group by name_fold, phone having count(distinct person_key) = 1
        ),
        matched as (
            select ids.source_file, ids.row_number, ids.file_sha256,
                c.person_key as by_id, m.person_key as by_cmnd,
                case when not (ids.aid12 is not null and c.person_key is null and np.has_id)
                     then np.person_key end as by_name_phone
            from ids
            left join by_cid c on c.cid = ids.aid12
            left join by_cmnd m on m.cmnd = ids.aid9
            left join by_name_phone np on np.name_fold = ids.name_fold and np.phone = ids.phone
        )
        select source_file, row_number,
            coalesce(by_id, by_cmnd, by_name_phone) as applicant_person_key,
            case when by_id is not null then {S.CONFIDENCE_CITIZEN_ID}
                 when by_cmnd is not null then {S.CONFIDENCE_LEGACY_ID}
                 when by_name_phone is not null then {CONFIDENCE_NAME_PHONE} end as match_confidence,
            case when by_id is not null then 'citizen_id'
                 when by_cmnd is not null then 'legacy_id'
                 when by_name_phone is not null then 'name_phone' else 'none' end as match_method,
            file_sha256
        from matched
        order by source_file, row_number, file_sha256
        """
    )
    report.applicant_rows = con.execute("select count(*) from identity.applicant_persons").fetchall()[0][0]
    report.applicants_by_method = dict(
        Counter(
            dict(
                con.execute(
                    "select match_method, count(*) from identity.applicant_persons group by 1"
                ).fetchall()
            )
        )
    )
