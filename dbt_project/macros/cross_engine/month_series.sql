{#- `relation` joined with one row per month start from `first_month` to `last_month` (both
    included), named `alias (column)`: DuckDB's table function `range(first, last + 1 month,
    1 month)` beside it in the FROM; Spark's `lateral view explode(sequence(first, last, 1 month))`. -#}
{% macro month_series(relation, first_month, last_month, alias, column) -%}
    {{ return(adapter.dispatch('month_series')(relation, first_month, last_month, alias, column)) }}
{%- endmacro %}

{% macro duckdb__month_series(relation, first_month, last_month, alias, column) -%}
    {{ relation }},
        range({{ first_month }}, {{ last_month }} + interval 1 month, interval 1 month)
            as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__month_series(relation, first_month, last_month, alias, column) -%}
    {{ relation }}
        lateral view explode(sequence({{ first_month }}, {{ last_month }}, interval 1 month))
            {{ alias }} as {{ column }}
{%- endmacro %}

{#- The same from two timestamps, both included: DuckDB's `cross join generate_series(first, last,
    1 month)`; Spark's `lateral view explode(sequence(first, last, 1 month))`. -#}
{% macro month_series_between(relation, first_month, last_month, alias, column) -%}
    {{ return(adapter.dispatch('month_series_between')(relation, first_month, last_month, alias, column)) }}
{%- endmacro %}

{% macro duckdb__month_series_between(relation, first_month, last_month, alias, column) -%}
    {{ relation }}
    cross join generate_series(
        {{ first_month }},
        {{ last_month }},
        interval 1 month
    ) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__month_series_between(relation, first_month, last_month, alias, column) -%}
    {{ spark__month_series(relation, first_month, last_month, alias, column) }}
{%- endmacro %}
