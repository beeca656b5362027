{#- The text type: DuckDB's `varchar`; Spark refuses `varchar` without a length, its text is `string`. -#}
{% macro text_type() -%}
    {{ return(adapter.dispatch('text_type')()) }}
{%- endmacro %}

{% macro duckdb__text_type() -%}varchar{%- endmacro %}

{% macro spark__text_type() -%}string{%- endmacro %}
