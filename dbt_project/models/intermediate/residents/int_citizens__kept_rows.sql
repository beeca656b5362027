-- Staged citizens rows with no quarantine issue: the rows the warehouse takes.
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_stale_kept_rows('citizens') }}"
) }}
{{ kept_rows('citizens') }}
