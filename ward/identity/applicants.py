"""Link dossier applicants to resolved persons: by valid ID, else by folded name + phone."""

from __future__ import annotations

import duckdb

from ward.identity.resolve import fold_sql

NAME_PHONE_CONFIDENCE = 0.9


def link_applicants(con: duckdb.DuckDBPyConnection, services: str, persons: str) -> None:
    con.execute("create schema if not exists identity")
    con.execute(
        f"""
        create or replace table identity.applicant_persons as
        with s as (
            select source_file, row_number::integer as row_number, file_sha256,
                   case when regexp_full_match(trim(applicant_id), '[0-9]{{12}}') then trim(applicant_id) end
                       as applicant_cid,
                   {fold_sql("applicant_name")} as name_f, applicant_phone
            from {services}
        ),
        by_id as (  -- one key per ID (a valid ID names exactly one person)
            select citizen_id, min(person_key) as person_key from {persons}
            where citizen_id is not null group by citizen_id
        ),
        by_name_phone as (  -- only unambiguous name + phone pairs link
            select {fold_sql("full_name")} as name_f, phone, min(person_key) as person_key
            from {persons} where phone is not null and full_name is not null
            group by all having count(distinct person_key) = 1
        )
        select s.source_file, s.row_number, s.file_sha256,
               coalesce(i.person_key, n.person_key) as applicant_person_key,
               case when i.person_key is not null then 1.0
                    when n.person_key is not null then {NAME_PHONE_CONFIDENCE} end::double as match_confidence,
               case when i.person_key is not null then 'citizen_id'
                    when n.person_key is not null then 'name_phone' end as match_method
        from s
        left join by_id i on i.citizen_id = s.applicant_cid
        left join by_name_phone n on n.name_f = s.name_f and n.phone = s.applicant_phone
        order by s.source_file, s.row_number
        """
    )
