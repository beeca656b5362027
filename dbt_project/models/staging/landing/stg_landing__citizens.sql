-- One row per delivered citizens row of the raw lake: renamed, cast, cleaned; nothing dropped or
-- merged here (the quality step and the intermediate models decide what is kept). Every cleaned
-- column whose cleaning can fail keeps the delivered text beside it as <column>_raw.
-- Each distinct delivered value is cleaned once (macros/cleaning/distinct_values.sql) and joined
-- back to its rows by its raw text: the rows repeat names, IDs, addresses, dates and enumerations.
{{ config(pre_hook="{{ delete_recorrected_files('citizens') }}") }}
with

source as (
    select * from {{ apply_corrections('citizens', landing_rows('citizens')) }}
),

citizen_ids as (
    select
        raw_value,
        {{ clean_citizen_id('raw_value') }} as citizen_id,
        {{ citizen_id_status('raw_value') }} as citizen_id_status
    from {{ distinct_values('source', ['citizen_id']) }}
),

legacy_ids as (
    select
        raw_value,
        {{ clean_legacy_id('raw_value') }} as legacy_id
    from {{ distinct_values('source', ['legacy_id']) }}
),

names as (
    select
        raw_value,
        {{ clean_name('raw_value') }} as full_name
    from {{ distinct_values('source', ['full_name']) }}
),

-- free text: hometown, addresses and the household ID share one dictionary
texts as (
    select
        raw_value,
        {{ clean_text('raw_value') }} as cleaned
    from {{ distinct_values('source', ['hometown', 'permanent_address', 'current_address', 'household_id']) }}
),

births_parsed as (
    select
        raw_value,
        {{ parse_date('raw_value') }} as date_of_birth
    from {{ distinct_values('source', ['date_of_birth']) }}
),

births as (
    select
        raw_value,
        date_of_birth,
        year(date_of_birth) as birth_year,
        {{ date_precision('raw_value', 'date_of_birth') }} as date_of_birth_precision
    from births_parsed
),

deaths as (
    select
        raw_value,
        {{ parse_date('raw_value') }} as date_of_death
    from {{ distinct_values('source', ['date_of_death']) }}
),

updates as (
    select
        raw_value,
        {{ parse_timestamp('raw_value') }} as updated_at
    from {{ distinct_values('source', ['updated_at']) }}
),

phones as (
    select
        raw_value,
        {{ clean_phone('raw_value') }} as phone,
        {{ phone_status('raw_value') }} as phone_status
    from {{ distinct_values('source', ['phone']) }}
),

sexes as (
    select
        raw_value,
        {{ map_enumeration('raw_value', var('ward_sex_codes')) }} as sex
    from {{ distinct_values('source', ['sex']) }}
),

ethnicities as (
    select
        raw_value,
        {{ match_reference_name('raw_value', source('reference', 'ethnic_groups')) }} as ethnicity
    from {{ distinct_values('source', ['ethnicity']) }}
),

religions as (
    select
        raw_value,
        {{ match_reference_name('raw_value', source('reference', 'religions')) }} as religion
    from {{ distinct_values('source', ['religion']) }}
),

nationalities as (
    select
        raw_value,
        {{ clean_nationality('raw_value') }} as nationality
    from {{ distinct_values('source', ['nationality']) }}
),

residence_types as (
    select
        raw_value,
        {{ map_enumeration('raw_value', var('ward_residence_type_codes')) }} as residence_type
    from {{ distinct_values('source', ['residence_type']) }}
),

relations as (
    select
        raw_value,
        {{ map_enumeration('raw_value', var('ward_relations')) }} as relation_to_head
    from {{ distinct_values('source', ['relation_to_head']) }}
),

groups as (
    select
        raw_value,
        {{ residential_group_no('raw_value') }} as residential_group_no
    from {{ distinct_values('source', ['residential_group']) }}
),

marital_statuses as (
    select
        raw_value,
        {{ map_enumeration('raw_value', var('ward_marital_statuses')) }} as marital_status
    from {{ distinct_values('source', ['marital_status']) }}
)

select
    -- the ward (one data root, one ward; a city unions its wards' rows)
    {{ ward_code() }} as ward_code,

    -- lineage
    {{ lineage_columns() }},

    -- identity
    citizen_ids.citizen_id,
    citizen_ids.citizen_id_status,
    source.citizen_id as citizen_id_raw,
    legacy_ids.legacy_id,
    source.legacy_id as legacy_id_raw,
    names.full_name,
    source.full_name as full_name_raw,
    births.date_of_birth,
    source.date_of_birth as date_of_birth_raw,
    sexes.sex,
    source.sex as sex_raw,

    -- origin
    ethnicities.ethnicity,
    source.ethnicity as ethnicity_raw,
    religions.religion,
    source.religion as religion_raw,
    nationalities.nationality,
    source.nationality as nationality_raw,
    hometowns.cleaned as hometown,
    permanent_addresses.cleaned as permanent_address,
    current_addresses.cleaned as current_address,

    -- residence
    residence_types.residence_type,
    source.residence_type as residence_type_raw,
    households.cleaned as household_id,
    source.household_id as household_id_raw,
    relations.relation_to_head,
    source.relation_to_head as relation_to_head_raw,
    groups.residential_group_no,
    source.residential_group as residential_group_raw,

    -- contact and civil status
    phones.phone,
    phones.phone_status,
    source.phone as phone_raw,
    marital_statuses.marital_status,
    source.marital_status as marital_status_raw,
    deaths.date_of_death,
    source.date_of_death as date_of_death_raw,
    updates.updated_at,
    source.updated_at as updated_at_raw,
    births.birth_year,
    births.date_of_birth_precision
from source
left join citizen_ids on source.citizen_id is not distinct from citizen_ids.raw_value
left join legacy_ids on source.legacy_id is not distinct from legacy_ids.raw_value
left join names on source.full_name is not distinct from names.raw_value
left join births on source.date_of_birth is not distinct from births.raw_value
left join sexes on source.sex is not distinct from sexes.raw_value
left join ethnicities on source.ethnicity is not distinct from ethnicities.raw_value
left join religions on source.religion is not distinct from religions.raw_value
left join nationalities on source.nationality is not distinct from nationalities.raw_value
left join texts as hometowns on source.hometown is not distinct from hometowns.raw_value
left join texts as permanent_addresses
    on source.permanent_address is not distinct from permanent_addresses.raw_value
left join texts as current_addresses
    on source.current_address is not distinct from current_addresses.raw_value
left join residence_types on source.residence_type is not distinct from residence_types.raw_value
left join texts as households on source.household_id is not distinct from households.raw_value
left join relations on source.relation_to_head is not distinct from relations.raw_value
left join groups on source.residential_group is not distinct from groups.raw_value
left join phones on source.phone is not distinct from phones.raw_value
left join marital_statuses on source.marital_status is not distinct from marital_statuses.raw_value
left join deaths on source.date_of_death is not distinct from deaths.raw_value
left join updates on source.updated_at is not distinct from updates.raw_value
