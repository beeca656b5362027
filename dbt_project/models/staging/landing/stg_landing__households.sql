-- One row per delivered households row of the raw lake: renamed, cast, cleaned; nothing dropped.
-- Cleaned columns whose cleaning can fail keep the delivered text beside them as <column>_raw.
{{ config(pre_hook="{{ delete_recorrected_files('households') }}") }}
with

source as (
    select * from {{ apply_corrections('households', landing_rows('households')) }}
)

select
    -- lineage
    {{ lineage_columns() }},

    -- household
    {{ clean_text('household_id') }} as household_id,
    household_id as household_id_raw,
    {{ clean_citizen_id('head_citizen_id') }} as head_citizen_id,
    {{ citizen_id_status('head_citizen_id') }} as head_citizen_id_status,
    head_citizen_id as head_citizen_id_raw,
    {{ clean_name('head_name') }} as head_name,
    head_name as head_name_raw,
    {{ clean_text('address') }} as address,
    {{ residential_group_no('residential_group') }} as residential_group_no,
    residential_group as residential_group_raw,
    {{ parse_count('member_count') }} as member_count,
    member_count as member_count_raw,
    {{ map_enumeration('household_type', var('ward_household_types')) }} as household_type,
    household_type as household_type_raw,
    {{ parse_timestamp('updated_at') }} as updated_at,
    updated_at as updated_at_raw
from source
