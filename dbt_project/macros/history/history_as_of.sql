{#-
    History is kept as of citizens extract dates, not as of the clock: the history asset
    (assets/history.py) runs `dbt snapshot --vars '{ward_history_as_of: YYYY-MM-DD}'` once per extract
    date, in date order, so that dbt_valid_from / dbt_valid_to are extract dates and replaying every
    landing file in one run gives the same history as receiving the extracts one by one.
-#}
{% macro history_as_of() -%}
    {%- set as_of = var('ward_history_as_of', none) -%}
    {%- if as_of is none -%}
        {%- if execute and flags.WHICH in ('snapshot', 'build') -%}
            {{ exceptions.raise_compiler_error(
                "Snapshots keep history as of an extract date: run them through the history asset "
                ~ "(assets/history.py) or pass --vars '{ward_history_as_of: YYYY-MM-DD}'."
            ) }}
        {%- endif -%}
        {#- parse, compile and lint need some date; nothing is written with it -#}
        {%- set as_of = '1900-01-01' -%}
    {%- endif -%}
    {{- return(modules.datetime.date.fromisoformat(as_of | string)) -}}
{%- endmacro %}

{#- dbt stamps snapshot rows with this (dbt_valid_from, dbt_valid_to, dbt_updated_at, dbt_scd_id);
    dbt-duckdb's own returns now(). Overridden for this project's snapshots only in effect: no model
    calls it. Without the var (hand runs of other commands), dbt-duckdb's behaviour. -#}
{% macro duckdb__snapshot_get_time() -%}
    {%- if var('ward_history_as_of', none) is none -%}
        now()::timestamp
    {%- else -%}
        cast('{{ history_as_of() }}' as timestamp)
    {%- endif -%}
{%- endmacro %}
