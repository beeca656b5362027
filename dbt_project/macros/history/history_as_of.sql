{#-
    History is kept as of citizens extract dates, not as of the clock: the history asset
    (assets/history.py) runs `dbt snapshot` once per extract date, in date order, each time with that
    date in the one-row table history.snapshot_as_of (ward/history.py), so that dbt_valid_from /
    dbt_valid_to are extract dates and replaying every landing file in one run gives the same history
    as receiving the extracts one by one.
    The date is read from the build database when the snapshot runs, not passed as --vars: a change of
    vars makes dbt parse the whole project again (≈ 2 s), once per extract date and again in the next
    dbt call, where the table keeps dbt's partial parse. `--vars '{ward_history_as_of: YYYY-MM-DD}'`
    still wins, for a hand run.
-#}
{% macro history_as_of() -%}
    {%- set as_of = var('ward_history_as_of', none) -%}
    {%- if as_of is none and execute and flags.WHICH in ('snapshot', 'build') -%}
        {%- set as_of = history_as_of_from_build_db() -%}
    {%- endif -%}
    {%- if as_of is none -%}
        {#- parse, compile and lint need some date; nothing is written with it -#}
        {%- set as_of = '1900-01-01' -%}
    {%- endif -%}
    {{- return(modules.datetime.date.fromisoformat(as_of | string)) -}}
{%- endmacro %}

{% macro history_as_of_from_build_db() -%}
    {%- set table = adapter.get_relation(database=target.database, schema='history', identifier='snapshot_as_of') -%}
    {%- set rows = run_query('select cast(as_of_date as varchar) from ' ~ table) if table is not none else none -%}
    {%- if rows is none or rows | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            "Snapshots keep history as of an extract date: run them through the history asset "
            ~ "(assets/history.py) or pass --vars '{ward_history_as_of: YYYY-MM-DD}'."
        ) }}
    {%- endif -%}
    {{- return(rows.columns[0].values()[0]) -}}
{%- endmacro %}

{#- dbt stamps snapshot rows with this (dbt_valid_from, dbt_valid_to, dbt_updated_at, dbt_scd_id);
    dbt-duckdb's own returns now(). Overridden for this project's snapshots only in effect: no model
    calls it. Outside a snapshot run (hand runs of other commands), dbt-duckdb's behaviour. -#}
{% macro duckdb__snapshot_get_time() -%}
    {%- if var('ward_history_as_of', none) is none and not (execute and flags.WHICH in ('snapshot', 'build')) -%}
        now()::timestamp
    {%- else -%}
        cast('{{ history_as_of() }}' as timestamp)
    {%- endif -%}
{%- endmacro %}
