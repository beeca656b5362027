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
    {{ issue_mart_columns() }}
from issues
where pick = 1
