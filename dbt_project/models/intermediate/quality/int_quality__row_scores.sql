-- Every source's latest-extract rows, scored for the data-quality scorecard: the union of the
-- per-source models (macros/quality/row_scores.sql explains the columns).
{{ config(materialized='view') }}
select * from {{ ref('int_quality__citizens_row_scores') }}
union all
select * from {{ ref('int_quality__households_row_scores') }}
union all
select * from {{ ref('int_quality__service_records_row_scores') }}
