-- One person per identity per citizens snapshot (snapshot = all kept rows of the files with the same
-- extract date). When several kept rows of a snapshot share an identity, the person takes the
-- values of the row updated last (updated_at), then the highest row_number; source_row_count
-- says how many rows were merged.
--
-- match_confidence: the weakest match among the rows merged into the person in this snapshot (1.0
-- when they all carry the valid 12-digit ID; the link probability for a probabilistic match).
with

identified as (
    select * from {{ ref('int_citizens__identified') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by extract_date, person_key
            order by updated_at desc nulls last, row_number desc, source_file desc
        ) as pick,
        count(*) over (partition by extract_date, person_key) as rows_merged,
        min(match_confidence) over (partition by extract_date, person_key) as weakest_match
    from identified
)

select
    ranked.extract_date as snapshot_date,
    ranked.person_key,
    ranked.identity_kind,
    ranked.citizen_id,
    ranked.legacy_id,
    ranked.full_name,
    ranked.date_of_birth,
    ranked.date_of_birth_precision,
    ranked.birth_year,
    ranked.sex,
    ranked.ethnicity,
    ranked.religion,
    ranked.nationality,
    ranked.residence_type,
    ranked.household_id,
    ranked.relation_to_head,
    ranked.residential_group_no,
    ranked.phone,
    ranked.marital_status,
    ranked.date_of_death,
    ranked.updated_at,
    ranked.source_file,
    ranked.row_number,
    ranked.file_sha256,
    ranked.loaded_at,
    cast(ranked.rows_merged as integer) as source_row_count,
    ranked.weakest_match as match_confidence
from ranked
where ranked.pick = 1
