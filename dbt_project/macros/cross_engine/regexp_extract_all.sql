{#- Every match of a regex, as a list: Spark's regexp_extract_all takes the group (0: the match). -#}
{% macro regexp_extract_all(column, pattern) -%}
    {{ return(adapter.dispatch('regexp_extract_all')(column, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_extract_all(column, pattern) -%}
    regexp_extract_all({{ column }}, {{ pattern }})
{%- endmacro %}

{% macro spark__regexp_extract_all(column, pattern) -%}
    regexp_extract_all({{ column }}, {{ spark_regex_literal(pattern) }}, 0)
{%- endmacro %}
