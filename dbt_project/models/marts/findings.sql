-- Every kept row with a problem a steward should review: the `flag` issues of the quality step on
-- rows that were not quarantined (what was not kept is in the quarantine, with all its reasons in
-- quality.row_issues). person_key: the person a citizens row became. resolved_at stays null while
-- the problem is open. Household rules that compare the two sources (no head, several heads,
-- member_count off, head not a member, a second head, a resident's household unknown) come from
-- int_households__findings (person_key null for a household row: it is not a person), and one
-- person listed twice in one snapshot from int_citizens__duplicate_findings.
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
),

row_findings as (
    select
        kept_issues.source,
        kept_issues.source_file,
        kept_issues.row_number,
        persons.person_key,
        kept_issues.rule,
        kept_issues.column_name,
        kept_issues.value,
        kept_issues.reason_vi,
        kept_issues.reason_en,
        kept_issues.first_seen_at,
        kept_issues.residential_group_no
    from kept_issues
    left join {{ ref('int_citizens__identified') }} as persons
        on
            kept_issues.source = 'citizens'
            and kept_issues.file_sha256 = persons.file_sha256
            and kept_issues.row_number = persons.row_number
),

household_findings as (
    select
        household.source,
        household.source_file,
        household.row_number,
        persons.person_key,
        household.rule,
        household.column_name,
        household.value,
        household.reason_vi,
        household.reason_en,
        household.first_seen_at,
        household.residential_group_no
    from (
        {{ union_all_by_name([ref('int_households__findings'), ref('int_citizens__duplicate_findings')]) }}
    ) as household
    left join {{ ref('int_citizens__identified') }} as persons
        on
            household.source = 'citizens'
            and household.file_sha256 = persons.file_sha256
            and household.row_number = persons.row_number
),

-- flagged values a steward corrected so that the rule no longer fires: resolved at the correction
resolved_findings as (
    select
        resolved.source,
        resolved.source_file,
        resolved.row_number,
        persons.person_key,
        resolved.rule,
        resolved.column_name,
        resolved.old_value as value,
        resolved.resolved_reason_vi as reason_vi,
        resolved.resolved_reason_en as reason_en,
        resolved.first_seen_at,
        resolved.residential_group_no,
        resolved.resolved_at
    from {{ ref('int_corrections__resolutions') }} as resolved
    left join {{ ref('int_citizens__identified') }} as persons
        on
            resolved.source = 'citizens'
            and resolved.target_sha256 = persons.file_sha256
            and resolved.row_number = persons.row_number
    where resolved.status = 'applied_resolved' and resolved.outcome = 'flag'
),

all_findings as (
    select
        *,
        cast(null as timestamp) as resolved_at
    from row_findings
    union all
    select
        *,
        cast(null as timestamp) as resolved_at
    from household_findings
    union all
    select * from resolved_findings
)

select
    {{ ward_code() }} as ward_code,
    {{ issue_mart_columns(with_person_key=true, with_resolved_at=true) }}
from all_findings
