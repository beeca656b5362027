{#- The value of the first row in an order, nulls included: DuckDB's ordered aggregate
    `first(value order by …)`; Spark has none, so `min_by(value, struct(keys))`, each key made
    ascending (a descending boolean negated, a number or timestamp negated as a number) and DuckDB's
    default `nulls last` made explicit (`key is null` before it).
    `order_by`: [(expression, 'asc' | 'desc' | '' (ascending, unwritten), kind)], kind one of 'boolean', 'number', 'timestamp',
    'text' ('text' ascending only). -#}
{% macro first_ordered(value, order_by) -%}
    {{ return(adapter.dispatch('first_ordered')(value, order_by)) }}
{%- endmacro %}

{% macro duckdb__first_ordered(value, order_by) -%}
    first({{ value }} order by
        {%- for expression, direction, kind in order_by %}
        {{ expression }}{{ ' ' ~ direction if direction }}{{ ' nulls last' if direction == 'desc' and kind == 'timestamp' }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro spark__first_ordered(value, order_by) -%}
    {%- set keys = [] -%}
    {%- for expression, direction, kind in order_by -%}
        {%- if kind != 'boolean' -%}{%- do keys.append('(' ~ expression ~ ') is null') -%}{%- endif -%}
        {%- if direction != 'desc' -%}
            {%- do keys.append(expression) -%}
        {%- elif kind == 'boolean' -%}
            {%- do keys.append('not (' ~ expression ~ ')') -%}
        {%- elif kind == 'number' -%}
            {%- do keys.append('-(' ~ expression ~ ')') -%}
        {%- elif kind == 'timestamp' -%}
            {%- do keys.append('-unix_micros(' ~ expression ~ ')') -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("first_ordered on Spark: no descending " ~ kind ~ " key") }}
        {%- endif -%}
    {%- endfor -%}
    min_by({{ value }}, struct({{ keys | join(', ') }}))
{%- endmacro %}
