-- Staged dossier versions with no quarantine issue: the rows the warehouse takes.
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_stale_kept_rows('service_records') }}"
) }}
{{ kept_rows('service_records') }}
