{#- The smallest `value` of the `relation` rows matching `condition` (which may name the outer
    query's columns), followed by `suffix`: null when no row matches. DuckDB allows the outer
    columns in the subquery's select list; Spark only in its WHERE, so `suffix` goes outside. -#}
{% macro lookup_min(value, relation, condition, suffix) -%}
    {{ return(adapter.dispatch('lookup_min')(value, relation, condition, suffix)) }}
{%- endmacro %}

{% macro duckdb__lookup_min(value, relation, condition, suffix) -%}
    (
        select min({{ value }}) || {{ suffix }}
        from {{ relation }} as ref
        where {{ condition }}
    )
{%- endmacro %}

{% macro spark__lookup_min(value, relation, condition, suffix) -%}
    (
        (
            select min({{ value }})
            from {{ relation }} as ref
            where {{ condition }}
        ) || {{ suffix }}
    )
{%- endmacro %}
