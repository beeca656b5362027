-- What became of each correction line, once the corrected rows went through the rules again:
--   rejected               refused at ingest (ingest_reason_*: unknown file, row or column, ...)
--   superseded             a later correction of the same cell won (latest corrected_at, then file, line)
--   applied_still_failing  applied, but its rule still fires on the corrected row
--   applied_resolved       applied, and its rule no longer fires: the problem is resolved at corrected_at
with

corrections as (
    select
        *,
        ingest_status = 'accepted'
        and row_number() over (
            partition by ingest_status, target_sha256, row_number, column_name
            order by corrected_at desc, corrections_file desc, corrections_row desc
        ) = 1 as is_winner
    from {{ ref('stg_landing__corrections') }}
),

current_issues as (
    select distinct
        file_sha256,
        row_number,
        rule
    from {{ source('quality', 'row_issues') }}
),

staged_rows as (
    select
        file_sha256,
        row_number,
        residential_group_no
    from {{ ref('stg_landing__citizens') }}
    union all
    select
        file_sha256,
        row_number,
        residential_group_no
    from {{ ref('stg_landing__households') }}
)

select
    corrections.*,
    staged_rows.residential_group_no,
    cast(corrections.corrected_at as timestamp) as resolved_at,
    -- the reasons a resolved quarantine or findings row shows (the worklist's own text in Vietnamese)
    coalesce(corrections.issue_reason_vi, 'Quy tắc ' || corrections.rule) as resolved_reason_vi,
    'Rule ' || corrections.rule || ' on ' || corrections.column_name || ': corrected in '
    || corrections.corrections_file || ' line ' || corrections.corrections_row as resolved_reason_en,
    case
        when corrections.ingest_status <> 'accepted' then 'rejected'
        when not corrections.is_winner then 'superseded'
        when current_issues.rule is not null then 'applied_still_failing'
        else 'applied_resolved'
    end as status
from corrections
left join current_issues
    on
        corrections.target_sha256 = current_issues.file_sha256
        and corrections.row_number = current_issues.row_number
        and corrections.rule = current_issues.rule
left join staged_rows
    on
        corrections.target_sha256 = staged_rows.file_sha256
        and corrections.row_number = staged_rows.row_number
