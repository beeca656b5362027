{#- Every column of a CTE with one replaced by `expression` (none: kept), for the branches of a
    `union all`, which match columns by position: DuckDB's `* replace (expression as column)` (and
    `*`); Spark has no `* replace` and a CTE's columns are not known to dbt, so every branch moves
    the column last (`* except (column), expression as column`). -#}
{% macro star_replaced(column, expression=none) -%}
    {{ return(adapter.dispatch('star_replaced')(column, expression)) }}
{%- endmacro %}

{% macro duckdb__star_replaced(column, expression=none) -%}
    {%- if expression is none -%}
        *
    {%- else -%}
        * replace ({{ expression }} as {{ column }})
    {%- endif -%}
{%- endmacro %}

{% macro spark__star_replaced(column, expression=none) -%}
    * except ({{ column }}), {{ column if expression is none else expression }} as {{ column }}
{%- endmacro %}
