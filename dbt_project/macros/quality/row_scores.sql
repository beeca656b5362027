{#-
    One source's rows of its latest extract (citizens and households: the latest snapshot;
    service_records: the latest extract's dossier versions), scored for the data-quality scorecard
    (marts/mart_data_quality), one model per source so that a run rebuilds only the sources that
    changed (models/intermediate/quality/int_quality__row_scores unions them):
      required_filled / required_total  required cells (ward/sources.py) delivered non-empty
      has_format_fault   a delivered, non-empty cell that its cleaning could not read (a date, an
                         ID, a phone, a group, a word outside its list: `<col>_raw` given, `<col>` null)
      has_issue          any rule of expectations/rules.yml fired on the row (quarantine or flag)
    (columns: macros/quality/row_score_columns.sql)
-#}
{% macro row_scores(source_name) %}
{%- set staged = ref('stg_landing__' ~ source_name) %}
with

issues as (
    select distinct
        file_sha256,
        row_number
    from {{ ref('int_row_issues__located') }}
    where source = '{{ source_name }}'
),

scored as (
    select {{ row_score_columns(source_name, staged) }}
    from {{ staged }}
    where extract_date = (select max(latest.extract_date) from {{ staged }} as latest)
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
        scored.file_sha256 = issues.file_sha256
        and scored.row_number = issues.row_number
{% endmacro %}
