-- Each row issue of the quality step (quality.row_issues) with the staged row it is about: the
-- delivery it came in (file_sha256), its extract date and its residential group. Issues are keyed by
-- (source, source_file, row_number); when row_issues also carries file_sha256, it is used too, so a
-- path re-delivered with other bytes cannot borrow the issues of its earlier delivery.
{%- set issue_columns = [] %}
{%- if execute %}
    {%- for column in adapter.get_columns_in_relation(source('quality', 'row_issues')) %}
        {%- do issue_columns.append(column.name | lower) %}
    {%- endfor %}
{%- endif %}

with

issues as (
    select * from {{ source('quality', 'row_issues') }}
),

staged_rows as (
    select
        'citizens' as source,
        source_file,
        row_number,
        file_sha256,
        extract_date,
        residential_group_no
    from {{ ref('stg_landing__citizens') }}
    union all
    select
        'households' as source,
        source_file,
        row_number,
        file_sha256,
        extract_date,
        residential_group_no
    from {{ ref('stg_landing__households') }}
    union all
    select
        'service_records' as source,
        source_file,
        row_number,
        file_sha256,
        extract_date,
        cast(null as integer) as residential_group_no
    from {{ ref('stg_landing__service_records') }}
)

select
    issues.source,
    issues.source_file,
    issues.row_number,
    issues.rule,
    issues.column_name,
    issues.value,
    issues.outcome,
    issues.reason_vi,
    issues.reason_en,
    issues.first_seen_at,
    staged_rows.file_sha256,
    staged_rows.extract_date,
    staged_rows.residential_group_no
from issues
left join staged_rows
    on
        issues.source = staged_rows.source
        and issues.source_file = staged_rows.source_file
        and issues.row_number = staged_rows.row_number
        and {{ 'issues.file_sha256 = staged_rows.file_sha256' if 'file_sha256' in issue_columns else 'true' }}
