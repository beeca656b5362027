{#- The value of `key` in a literal map (`pairs`: {text: text}), null when absent: DuckDB's
    `map_extract_value(map {…}, key)`, Spark's `try_element_at(map(…), key)`. -#}
{% macro map_lookup(pairs, key) -%}
    {{ return(adapter.dispatch('map_lookup')(pairs, key)) }}
{%- endmacro %}

{% macro duckdb__map_lookup(pairs, key) -%}
    map_extract_value(map {
        {%- for old, new in pairs.items() %}
        '{{ old }}': '{{ new }}'{{ ',' if not loop.last }}
        {%- endfor %}
    }, {{ key }})
{%- endmacro %}

{% macro spark__map_lookup(pairs, key) -%}
    try_element_at(map(
        {%- for old, new in pairs.items() %}
        '{{ old }}', '{{ new }}'{{ ',' if not loop.last }}
        {%- endfor %}
    ), {{ key }})
{%- endmacro %}
