{#- Survivorship among the rows of one person in one snapshot (int_persons). -#}

{#- Ties: the row carrying the valid ID (the record itself, not a copy keyed by hand), then the row
    updated last, then the first listed (a copy keyed again by hand comes after its record). -#}
{% macro survivorship_order() -%}
    has_citizen_id desc, updated_at desc nulls last, row_number asc, source_file asc
{%- endmacro %}

{#- A value over none, then the tie order. -#}
{% macro survive(column) -%}
    first({{ column }} order by {{ column }} is null, {{ survivorship_order() }})
{%- endmacro %}
