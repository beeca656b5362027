{#- A text parsed as a timestamp with a strftime format, null when it does not parse: DuckDB's
    `try_strptime`; Spark's `try_to_timestamp` with the Java pattern (only %d, %m, %Y are used:
    `d` and `M` read one or two digits like DuckDB's %d and %m). -#}
{% macro try_strptime(column, format) -%}
    {{ return(adapter.dispatch('try_strptime')(column, format)) }}
{%- endmacro %}

{% macro duckdb__try_strptime(column, format) -%}
    try_strptime({{ column }}, {{ format }})
{%- endmacro %}

{% macro spark__try_strptime(column, format) -%}
    try_to_timestamp({{ column }}, {{ format | replace('%d', 'd') | replace('%m', 'M') | replace('%Y', 'yyyy') }})
{%- endmacro %}
