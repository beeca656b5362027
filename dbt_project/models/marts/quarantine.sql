-- Every delivered row the warehouse did not take, and why: one row per (file, row, rule) of the
-- quarantine rules that fired (expectations/rules.yml). value is the cell as delivered.
-- resolved_at stays null while the problem is open (nothing resolves it yet: a corrected row comes
-- back in a new delivery).
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
)

select
    cast(source as varchar) as source,
    cast(source_file as varchar) as source_file,
    cast(row_number as integer) as row_number,
    cast(rule as varchar) as rule,
    cast(column_name as varchar) as {{ adapter.quote('column') }},
    cast(value as varchar) as value,
    cast(reason_vi as varchar) as reason_vi,
    cast(reason_en as varchar) as reason_en,
    cast(first_seen_at as timestamp) as first_seen_at,
    cast(null as timestamp) as resolved_at,
    cast(column_name as varchar) as column_name,
    cast(residential_group_no as integer) as residential_group_no
from issues
where pick = 1
