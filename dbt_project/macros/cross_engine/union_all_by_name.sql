{#- The rows of several relations, columns matched by name (a column one lacks is null there):
    DuckDB's `union all by name`; Spark SQL has none, so each relation's columns are listed (the
    first relation's order, then the new ones of the next), known only when dbt executes. -#}
{% macro union_all_by_name(relations) -%}
    {{ return(adapter.dispatch('union_all_by_name')(relations)) }}
{%- endmacro %}

{% macro duckdb__union_all_by_name(relations) -%}
    {%- for relation in relations %}
    select * from {{ relation }}
    {{- '\n    union all by name' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro spark__union_all_by_name(relations) -%}
    {%- if not execute -%}
        {{ return('select * from ' ~ relations[0]) }}
    {%- endif -%}
    {%- set columns_of = [] -%}
    {%- set names = [] -%}
    {%- set types = {} -%}
    {%- for relation in relations -%}
        {%- set columns = adapter.get_columns_in_relation(relation) -%}
        {%- do columns_of.append(columns | map(attribute='name') | list) -%}
        {%- for column in columns if column.name not in names -%}
            {%- do names.append(column.name) -%}
            {%- do types.update({column.name: column.data_type}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for relation in relations %}
    {%- set present = columns_of[loop.index0] %}
    select
        {%- for name in names %}
        {% if name in present -%}
            {{ adapter.quote(name) }}
        {%- else -%}
            cast(null as {{ types[name] }}) as {{ adapter.quote(name) }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {{- '\n    union all' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
