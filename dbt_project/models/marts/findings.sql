-- Every kept row with a problem a steward should review: the `flag` issues of the quality step on
-- rows that were not quarantined (what was not kept is in the quarantine, with all its reasons in
-- quality.row_issues). person_key: the person a citizens row became. resolved_at stays null while
-- the problem is open.
with

issues as (
    select
        *,
        row_number() over (
            partition by source, source_file, row_number, rule
            order by first_seen_at, file_sha256
        ) as pick
    from {{ ref('int_row_issues__located') }}
    where outcome = 'flag'
),

kept_issues as (
    select issues.*
    from issues
    anti join {{ ref('int_quarantined_rows') }} as quarantined
        on
            issues.source = quarantined.source
            and issues.file_sha256 = quarantined.file_sha256
            and issues.row_number = quarantined.row_number
    where issues.pick = 1
)

select
    cast(kept_issues.source as varchar) as source,
    cast(kept_issues.source_file as varchar) as source_file,
    cast(kept_issues.row_number as integer) as row_number,
    cast(persons.person_key as varchar) as person_key,
    cast(kept_issues.rule as varchar) as rule,
    cast(kept_issues.column_name as varchar) as {{ adapter.quote('column') }},
    cast(kept_issues.value as varchar) as value,
    cast(kept_issues.reason_vi as varchar) as reason_vi,
    cast(kept_issues.reason_en as varchar) as reason_en,
    cast(kept_issues.first_seen_at as timestamp) as first_seen_at,
    cast(null as timestamp) as resolved_at,
    cast(kept_issues.column_name as varchar) as column_name,
    cast(kept_issues.residential_group_no as integer) as residential_group_no
from kept_issues
left join {{ ref('int_citizens__identified') }} as persons
    on
        kept_issues.source = 'citizens'
        and kept_issues.file_sha256 = persons.file_sha256
        and kept_issues.row_number = persons.row_number
