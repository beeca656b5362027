{#- A list with `body` applied to each element `name`: DuckDB's `list_transform(l, lambda x: …)`,
    Spark's `transform(l, x -> …)`. -#}
{% macro list_transform(list_expression, name, body) -%}
    {{ return(adapter.dispatch('list_transform')(list_expression, name, body)) }}
{%- endmacro %}

{% macro duckdb__list_transform(list_expression, name, body) -%}
    list_transform(
        {{ list_expression }},
        lambda {{ name }}: {{ body }}
    )
{%- endmacro %}

{% macro spark__list_transform(list_expression, name, body) -%}
    transform(
        {{ list_expression }},
        {{ name }} -> {{ body }}
    )
{%- endmacro %}

{#- A list of texts joined: DuckDB's `array_to_string`, Spark's `array_join`. -#}
{% macro list_join(list_expression, separator) -%}
    {{ return(adapter.dispatch('list_join')(list_expression, separator)) }}
{%- endmacro %}

{% macro duckdb__list_join(list_expression, separator) -%}
    array_to_string(
        {{ list_expression }},
        {{ separator }}
    )
{%- endmacro %}

{% macro spark__list_join(list_expression, separator) -%}
    array_join(
        {{ list_expression }},
        {{ separator }}
    )
{%- endmacro %}
