-- The stewards' corrections (raw/corrections/, ward.corrections): one row per filled line of a
-- corrections sheet, accepted or rejected at ingest. Typed only.
{{ config(materialized="table") }}
with

source as (
    select * from {{ source('landing', 'corrections') }}
)

select
    {{ ward_code() }} as ward_code,
    cast(corrections_file as varchar) as corrections_file,
    cast(corrections_sha256 as varchar) as corrections_sha256,
    cast(corrections_row as integer) as corrections_row,
    cast(corrected_at as date) as corrected_at,
    cast(source as varchar) as source,
    cast(source_file as varchar) as source_file,
    cast(row_number as integer) as row_number,
    cast("column" as varchar) as column_name,
    cast(rule as varchar) as rule,
    cast(outcome as varchar) as outcome,
    cast(old_value as varchar) as old_value,
    cast(new_value as varchar) as new_value,
    cast(note as varchar) as note,
    cast(issue_reason_vi as varchar) as issue_reason_vi,
    cast(target_sha256 as varchar) as target_sha256,
    cast(status as varchar) as ingest_status,
    cast(reason_vi as varchar) as ingest_reason_vi,
    cast(reason_en as varchar) as ingest_reason_en,
    cast(loaded_at as timestamp) as loaded_at,
    try_cast(first_seen as timestamp) as first_seen_at
from source
