{#- Diacritics removed: DuckDB's `strip_accents`; Spark has no builtin, so a Python UDF
    `ward_strip_accents` registered on the session before dbt runs (tests/e2e/test_dbt_spark.py). -#}
{% macro strip_accents(column) -%}
    {{ return(adapter.dispatch('strip_accents')(column)) }}
{%- endmacro %}

{% macro duckdb__strip_accents(column) -%}
    strip_accents({{ column }})
{%- endmacro %}

{% macro spark__strip_accents(column) -%}
    ward_strip_accents({{ column }})
{%- endmacro %}
