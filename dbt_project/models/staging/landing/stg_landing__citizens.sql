-- One row per delivered citizens row of the raw lake: renamed, cast, cleaned; nothing dropped or
-- merged here (the quality step and the intermediate models decide what is kept). Every cleaned
-- column whose cleaning can fail keeps the delivered text beside it as <column>_raw.
{{ config(pre_hook="{{ delete_recorrected_files('citizens') }}") }}
with

source as (
    select * from {{ apply_corrections('citizens', landing_rows('citizens')) }}
),

cleaned as (
    select
        -- lineage
        {{ lineage_columns() }},

        -- identity
        {{ clean_citizen_id('citizen_id') }} as citizen_id,
        {{ citizen_id_status('citizen_id') }} as citizen_id_status,
        citizen_id as citizen_id_raw,
        {{ clean_legacy_id('legacy_id') }} as legacy_id,
        legacy_id as legacy_id_raw,
        {{ clean_name('full_name') }} as full_name,
        full_name as full_name_raw,
        {{ parse_date('date_of_birth') }} as date_of_birth,
        date_of_birth as date_of_birth_raw,
        {{ map_enumeration('sex', var('ward_sex_codes')) }} as sex,
        sex as sex_raw,

        -- origin
        {{ match_reference_name('ethnicity', source('reference', 'ethnic_groups')) }} as ethnicity,
        ethnicity as ethnicity_raw,
        {{ match_reference_name('religion', source('reference', 'religions')) }} as religion,
        religion as religion_raw,
        {{ clean_nationality('nationality') }} as nationality,
        nationality as nationality_raw,
        {{ clean_text('hometown') }} as hometown,
        {{ clean_text('permanent_address') }} as permanent_address,
        {{ clean_text('current_address') }} as current_address,

        -- residence
        {{ map_enumeration('residence_type', var('ward_residence_type_codes')) }} as residence_type,
        residence_type as residence_type_raw,
        {{ clean_text('household_id') }} as household_id,
        household_id as household_id_raw,
        {{ map_enumeration('relation_to_head', var('ward_relations')) }} as relation_to_head,
        relation_to_head as relation_to_head_raw,
        {{ residential_group_no('residential_group') }} as residential_group_no,
        residential_group as residential_group_raw,

        -- contact and civil status
        {{ clean_phone('phone') }} as phone,
        {{ phone_status('phone') }} as phone_status,
        phone as phone_raw,
        {{ map_enumeration('marital_status', var('ward_marital_statuses')) }} as marital_status,
        marital_status as marital_status_raw,
        {{ parse_date('date_of_death') }} as date_of_death,
        date_of_death as date_of_death_raw,
        {{ parse_timestamp('updated_at') }} as updated_at,
        updated_at as updated_at_raw
    from source
)

select
    *,
    year(date_of_birth) as birth_year,
    {{ date_precision('date_of_birth_raw', 'date_of_birth') }} as date_of_birth_precision
from cleaned
