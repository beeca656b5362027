-- One row per staged row of each source's latest extract (citizens and households: the latest
-- snapshot; service_records: the latest extract's dossier versions), scored for the data-quality
-- scorecard (marts/mart_data_quality):
--   required_filled / required_total  required cells (ward/sources.py) delivered non-empty
--   has_format_fault   a delivered, non-empty cell that its cleaning could not read (a date, an ID, a
--                      phone, a group, a word outside its list: `<col>_raw` given, `<col>` null)
--   has_issue          any rule of expectations/rules.yml fired on the row (quarantine or flag)
-- (columns: macros/quality/row_score_columns.sql)
with

issues as (
    select distinct
        source,
        file_sha256,
        row_number
    from {{ ref('int_row_issues__located') }}
),

citizens_rows as (
    select {{ row_score_columns('citizens', ref('stg_landing__citizens')) }}
    from {{ ref('stg_landing__citizens') }}
    where extract_date = (select max(latest.extract_date) from {{ ref('stg_landing__citizens') }} as latest)
),

households_rows as (
    select {{ row_score_columns('households', ref('stg_landing__households')) }}
    from {{ ref('stg_landing__households') }}
    where extract_date = (select max(latest.extract_date) from {{ ref('stg_landing__households') }} as latest)
),

service_records_rows as (
    select {{ row_score_columns('service_records', ref('stg_landing__service_records')) }}
    from {{ ref('stg_landing__service_records') }}
    where
        extract_date = (
            select max(latest.extract_date) from {{ ref('stg_landing__service_records') }} as latest
        )
),

scored as (
    select * from citizens_rows
    union all
    select * from households_rows
    union all
    select * from service_records_rows
)

select
    scored.source,
    scored.file_sha256,
    scored.row_number,
    scored.extract_date,
    scored.residential_group_no,
    scored.required_filled,
    scored.required_total,
    scored.has_format_fault,
    issues.row_number is not null as has_issue
from scored
left join issues
    on
        scored.source = issues.source
        and scored.file_sha256 = issues.file_sha256
        and scored.row_number = issues.row_number
