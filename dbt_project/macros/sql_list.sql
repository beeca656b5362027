{#- A parenthesised list of SQL string literals: ['a', 'b'] -> ('a', 'b'). -#}
{% macro sql_list(values) -%}
    ({%- for value in values -%}{{ dbt.string_literal(value) }}{{ ', ' if not loop.last }}{%- endfor -%})
{%- endmacro %}
