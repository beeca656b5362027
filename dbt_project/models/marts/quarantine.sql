-- Every delivered row the warehouse did not take, and why: one row per (file, row, rule) of the
-- quarantine rules that fired (expectations/rules.yml). value is the cell as delivered.
-- resolved_at stays null while the problem is open; a steward's correction that makes the rule stop
-- firing (landing/corrections/, marts.corrections) resolves it at the correction's date.
with

issues as (
    select
        *,
        row_number() over (
            partition by source, source_file, row_number, rule
            order by first_seen_at, file_sha256
        ) as pick
    from {{ ref('int_row_issues__located') }}
    where outcome = 'quarantine'
),

open_issues as (
    select
        source,
        source_file,
        row_number,
        rule,
        column_name,
        value,
        reason_vi,
        reason_en,
        first_seen_at,
        residential_group_no,
        cast(null as timestamp) as resolved_at
    from issues
    where pick = 1
),

resolved_issues as (
    select
        source,
        source_file,
        row_number,
        rule,
        column_name,
        old_value as value,
        resolved_reason_vi as reason_vi,
        resolved_reason_en as reason_en,
        first_seen_at,
        residential_group_no,
        resolved_at
    from {{ ref('int_corrections__resolutions') }}
    where status = 'applied_resolved' and outcome = 'quarantine'
)

select
    {{ ward_code() }} as ward_code,
    {{ issue_mart_columns(with_resolved_at=true) }}
from (
    select * from open_issues
    union all
    select * from resolved_issues
) as issues
