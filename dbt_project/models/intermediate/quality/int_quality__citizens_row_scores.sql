-- The citizens rows of the latest snapshot, scored (macros/quality/row_scores.sql).
{{ config(tags=['persons']) }}
{{ row_scores('citizens') }}
