{#- A text from its `start`th character (1-based) to the end, or `length` characters of it:
    DuckDB's slices `s[2:]` and `s[1]`; Spark's `substr`. -#}
{% macro string_slice(column, start, length=none) -%}
    {{ return(adapter.dispatch('string_slice')(column, start, length)) }}
{%- endmacro %}

{% macro duckdb__string_slice(column, start, length=none) -%}
    {%- if length == 1 -%}
        {{ column }}[{{ start }}]
    {%- elif length is none -%}
        {{ column }}[{{ start }}:]
    {%- else -%}
        {{ column }}[{{ start }}:{{ start + length - 1 }}]
    {%- endif -%}
{%- endmacro %}

{% macro spark__string_slice(column, start, length=none) -%}
    substr({{ column }}, {{ start }}{{ ', ' ~ length if length is not none }})
{%- endmacro %}
