-- One row per household per households snapshot (all kept rows of the files with the same extract
-- date). A household listed twice in one snapshot takes the row updated last, then the highest
-- row_number.
with

ranked as (
    select
        *,
        row_number() over (
            partition by extract_date, household_id
            order by updated_at desc nulls last, row_number desc, source_file desc
        ) as pick,
        count(*) over (partition by extract_date, household_id) as rows_merged
    from {{ ref('int_households__kept_rows') }}
)

select
    extract_date as snapshot_date,
    household_id,
    head_citizen_id,
    head_name,
    address,
    residential_group_no,
    member_count,
    household_type,
    updated_at,
    cast(rows_merged as integer) as source_row_count,
    source_file,
    row_number,
    file_sha256,
    loaded_at
from ranked
where pick = 1
