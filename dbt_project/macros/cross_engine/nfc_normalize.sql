{#- Unicode NFC: DuckDB's `nfc_normalize`; Spark has no builtin, so a Python UDF
    `ward_nfc_normalize` registered on the session before dbt runs (tests/e2e/test_dbt_spark.py). -#}
{% macro nfc_normalize(column) -%}
    {{ return(adapter.dispatch('nfc_normalize')(column)) }}
{%- endmacro %}

{% macro duckdb__nfc_normalize(column) -%}
    nfc_normalize({{ column }})
{%- endmacro %}

{% macro spark__nfc_normalize(column) -%}
    ward_nfc_normalize({{ column }})
{%- endmacro %}
