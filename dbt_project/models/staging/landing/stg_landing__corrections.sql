-- The stewards' corrections (raw/corrections/, ward.corrections): one row per filled line of a
-- corrections sheet, accepted or rejected at ingest. Typed only.
{{ config(materialized="table") }}
with

source as (
    select * from {{ source('landing', 'corrections') }}
)

select
    {{ ward_code() }} as ward_code,
    cast(corrections_file as {{ text_type() }}) as corrections_file,
    cast(corrections_sha256 as {{ text_type() }}) as corrections_sha256,
    cast(corrections_row as integer) as corrections_row,
    cast(corrected_at as date) as corrected_at,
    cast(source as {{ text_type() }}) as source,
    cast(source_file as {{ text_type() }}) as source_file,
    cast(row_number as integer) as row_number,
    cast({{ adapter.quote('column') }} as {{ text_type() }}) as column_name,
    cast(rule as {{ text_type() }}) as rule,
    cast(outcome as {{ text_type() }}) as outcome,
    cast(old_value as {{ text_type() }}) as old_value,
    cast(new_value as {{ text_type() }}) as new_value,
    cast(note as {{ text_type() }}) as note,
    cast(issue_reason_vi as {{ text_type() }}) as issue_reason_vi,
    cast(target_sha256 as {{ text_type() }}) as target_sha256,
    cast(status as {{ text_type() }}) as ingest_status,
    cast(reason_vi as {{ text_type() }}) as ingest_reason_vi,
    cast(reason_en as {{ text_type() }}) as ingest_reason_en,
    cast(loaded_at as timestamp) as loaded_at,
    try_cast(first_seen as timestamp) as first_seen_at
from source
