{#- A struct of named values (`fields`: [(name, expression)]): DuckDB's literal `{'name': value}`,
    Spark's `named_struct('name', value)`. -#}
{% macro struct_pack(fields) -%}
    {{ return(adapter.dispatch('struct_pack')(fields)) }}
{%- endmacro %}

{% macro duckdb__struct_pack(fields) -%}
    {
        {%- for name, expression in fields %}
        '{{ name }}': {{ expression }}{{ ',' if not loop.last }}
        {%- endfor %}
    }
{%- endmacro %}

{% macro spark__struct_pack(fields) -%}
    named_struct(
        {%- for name, expression in fields %}
        '{{ name }}', {{ expression }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
