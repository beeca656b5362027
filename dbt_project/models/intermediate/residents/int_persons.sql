-- One person per identity per citizens snapshot (snapshot = all kept rows of the files with the same
-- extract date). A snapshot may list one person in several rows (a row keyed again by hand, linked
-- by the identity step); the person then takes each attribute from the best evidence among them
-- (survivorship, documented per column in _intermediate__models.yml and docs/architecture.md):
--   citizen_id, legacy_id     the valid ID (cleaning nulls a broken one; identity never merges two)
--   full_name                 a name with diacritics over the same name without them
--   date_of_birth (+ precision, birth_year)  a full date over a partial one (day > month > year)
--   every other attribute     a value over none
-- Ties, and the lineage (source_file, row_number, ...): the row carrying the valid ID (the record
-- itself, not a copy keyed by hand), then the row updated last, then the first listed (a copy keyed
-- again by hand comes after its record).
--
-- match_confidence: the weakest match among the rows merged into the person in this snapshot (1.0
-- when they all carry the valid 12-digit ID; the link probability for a probabilistic match).
with

identified as (
    select
        *,
        citizen_id is not null as has_citizen_id,
        {{ regexp_matches("coalesce(full_name, '')", "'[^\\x00-\\x7F]'") }} as has_diacritics,
        case date_of_birth_precision when 'day' then 3 when 'month' then 2 when 'year' then 1 else 0 end
            as date_of_birth_rank
    from {{ ref('int_citizens__identified') }}
),

survived as (
    select
        extract_date as snapshot_date,
        person_key,
        max(citizen_id) as citizen_id,
        {{ survive('legacy_id') }} as legacy_id,
        {{ first_ordered(
            'full_name',
            [('full_name is null', '', 'boolean'), ('has_diacritics', 'desc', 'boolean')] + survivorship_keys()
        ) }} as full_name,
        {{ first_ordered(
            struct_pack([
                ('date_of_birth', 'date_of_birth'),
                ('precision', 'date_of_birth_precision'),
                ('birth_year', 'birth_year'),
            ]),
            [('date_of_birth is null', '', 'boolean'), ('date_of_birth_rank', 'desc', 'number')]
            + survivorship_keys()
        ) }} as birth,
        {{ survive('sex') }} as sex,
        {{ survive('ethnicity') }} as ethnicity,
        {{ survive('religion') }} as religion,
        {{ survive('nationality') }} as nationality,
        {{ survive('residence_type') }} as residence_type,
        {{ survive('household_id') }} as household_id,
        {{ survive('relation_to_head') }} as relation_to_head,
        {{ survive('residential_group_no') }} as residential_group_no,
        {{ survive('phone') }} as phone,
        {{ survive('marital_status') }} as marital_status,
        {{ survive('date_of_death') }} as date_of_death,
        max(updated_at) as updated_at,
        {{ first_ordered(
            struct_pack([
                ('identity_kind', 'identity_kind'),
                ('source_file', 'source_file'),
                ('row_number', 'row_number'),
                ('file_sha256', 'file_sha256'),
                ('loaded_at', 'loaded_at'),
            ]),
            survivorship_keys()
        ) }} as lineage,
        count(*) as rows_merged,
        min(match_confidence) as weakest_match
    from identified
    group by extract_date, person_key
)

select
    survived.snapshot_date,
    survived.person_key,
    survived.lineage.identity_kind,
    survived.citizen_id,
    survived.legacy_id,
    survived.full_name,
    survived.birth.date_of_birth,
    survived.birth.precision as date_of_birth_precision,
    survived.birth.birth_year,
    survived.sex,
    survived.ethnicity,
    survived.religion,
    survived.nationality,
    survived.residence_type,
    survived.household_id,
    survived.relation_to_head,
    survived.residential_group_no,
    survived.phone,
    survived.marital_status,
    survived.date_of_death,
    survived.updated_at,
    survived.lineage.source_file,
    survived.lineage.row_number,
    survived.lineage.file_sha256,
    survived.lineage.loaded_at,
    cast(survived.rows_merged as integer) as source_row_count,
    survived.weakest_match as match_confidence
from survived
