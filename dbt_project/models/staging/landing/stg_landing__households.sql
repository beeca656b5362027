-- One row per delivered households row of the raw lake: renamed, cast, cleaned; nothing dropped.
-- Cleaned columns whose cleaning can fail keep the delivered text beside them as <column>_raw.
-- Each distinct delivered value is cleaned once (macros/cleaning/distinct_values.sql) and joined
-- back to its rows by its raw text: a household is listed again in every snapshot.
{{ config(pre_hook="{{ delete_recorrected_files('households') }}") }}
with

source as (
    select * from {{ apply_corrections('households', landing_rows('households')) }}
),

-- free text: the household ID and the address share one dictionary
texts as (
    select
        raw_value,
        {{ clean_text('raw_value') }} as cleaned
    from {{ distinct_values('source', ['household_id', 'address']) }}
),

citizen_ids as (
    select
        raw_value,
        {{ clean_citizen_id('raw_value') }} as citizen_id,
        {{ citizen_id_status('raw_value') }} as citizen_id_status
    from {{ distinct_values('source', ['head_citizen_id']) }}
),

names as (
    select
        raw_value,
        {{ clean_name('raw_value') }} as cleaned
    from {{ distinct_values('source', ['head_name']) }}
),

groups as (
    select
        raw_value,
        {{ residential_group_no('raw_value') }} as residential_group_no
    from {{ distinct_values('source', ['residential_group']) }}
),

counts as (
    select
        raw_value,
        {{ parse_count('raw_value') }} as member_count
    from {{ distinct_values('source', ['member_count']) }}
),

household_types as (
    select
        raw_value,
        {{ map_enumeration('raw_value', var('ward_household_types')) }} as household_type
    from {{ distinct_values('source', ['household_type']) }}
),

updates as (
    select
        raw_value,
        {{ parse_timestamp('raw_value') }} as updated_at
    from {{ distinct_values('source', ['updated_at']) }}
)

select
    -- the ward (one data root, one ward; a city unions its wards' rows)
    {{ ward_code() }} as ward_code,

    -- lineage
    {{ lineage_columns() }},

    -- household
    household_ids.cleaned as household_id,
    source.household_id as household_id_raw,
    citizen_ids.citizen_id as head_citizen_id,
    citizen_ids.citizen_id_status as head_citizen_id_status,
    source.head_citizen_id as head_citizen_id_raw,
    names.cleaned as head_name,
    source.head_name as head_name_raw,
    addresses.cleaned as address,
    groups.residential_group_no,
    source.residential_group as residential_group_raw,
    counts.member_count,
    source.member_count as member_count_raw,
    household_types.household_type,
    source.household_type as household_type_raw,
    updates.updated_at,
    source.updated_at as updated_at_raw
from source
left join texts as household_ids on source.household_id is not distinct from household_ids.raw_value
left join citizen_ids on source.head_citizen_id is not distinct from citizen_ids.raw_value
left join names on source.head_name is not distinct from names.raw_value
left join texts as addresses on source.address is not distinct from addresses.raw_value
left join groups on source.residential_group is not distinct from groups.raw_value
left join counts on source.member_count is not distinct from counts.raw_value
left join household_types on source.household_type is not distinct from household_types.raw_value
left join updates on source.updated_at is not distinct from updates.raw_value
