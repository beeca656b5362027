{#-
    A non-negative whole number as delivered (`3`, ` 3 `, `3.0` from Excel). `empty_as` is the value
    of an empty cell (supplement_count: 0, extract-spec); anything else unreadable gives null.
-#}
{% macro parse_count(column, empty_as=none) -%}
    case
        when {{ blank_to_null(column) }} is null then {{ 'null' if empty_as is none else empty_as }}
        when {{ regexp_full_match(blank_to_null(column), "'[0-9]{1,6}([.,]0+)?'") }}
            then cast(cast(replace({{ blank_to_null(column) }}, ',', '.') as double) as integer)
    end
{%- endmacro %}
