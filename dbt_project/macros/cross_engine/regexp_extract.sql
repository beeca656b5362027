{#- A regex group ('' when no match, both engines): DuckDB's group defaults to 0, Spark's to 1, so
    Spark is always given the group. -#}
{% macro regexp_extract(column, pattern, group=none) -%}
    {{ return(adapter.dispatch('regexp_extract')(column, pattern, group)) }}
{%- endmacro %}

{% macro duckdb__regexp_extract(column, pattern, group=none) -%}
    regexp_extract({{ column }}, {{ pattern }}{{ ', ' ~ group if group is not none }})
{%- endmacro %}

{% macro spark__regexp_extract(column, pattern, group=none) -%}
    regexp_extract({{ column }}, {{ spark_regex_literal(pattern) }}, {{ 0 if group is none else group }})
{%- endmacro %}
