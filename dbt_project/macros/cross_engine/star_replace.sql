{#- Every column of `relation` (read under `alias`), some replaced by an expression
    (`replacements`: [(column, expression)]): DuckDB's `alias.* replace (… as column)`; Spark has
    no `* replace`, so the columns are listed (from the relation: only when dbt executes). -#}
{% macro star_replace(alias, relation, replacements) -%}
    {{ return(adapter.dispatch('star_replace')(alias, relation, replacements)) }}
{%- endmacro %}

{% macro duckdb__star_replace(alias, relation, replacements) -%}
    {{ alias }}.* replace (
        {%- for column, expression in replacements %}
        {{ expression }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro spark__star_replace(alias, relation, replacements) -%}
    {%- set replaced = dict(replacements) -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) %}
        {{ replaced.get(column.name, alias ~ '.' ~ adapter.quote(column.name)) }} as {{ adapter.quote(column.name) }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    {%- else -%}
        {{ alias }}.*
    {%- endif -%}
{%- endmacro %}
