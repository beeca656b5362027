{#- Survivorship among the rows of one person in one snapshot (int_persons). -#}

{#- Ties: the row carrying the valid ID (the record itself, not a copy keyed by hand), then the row
    updated last, then the first listed (a copy keyed again by hand comes after its record). -#}
{#- As first_ordered's keys (macros/cross_engine/first_ordered.sql): `has_citizen_id desc, updated_at
    desc nulls last, row_number asc, source_file asc`. -#}
{% macro survivorship_keys() -%}
    {{ return([
        ('has_citizen_id', 'desc', 'boolean'),
        ('updated_at', 'desc', 'timestamp'),
        ('row_number', 'asc', 'number'),
        ('source_file', 'asc', 'text'),
    ]) }}
{%- endmacro %}

{#- A value over none, then the tie order. -#}
{% macro survive(column) -%}
    {{ first_ordered(column, [(column ~ ' is null', '', 'boolean')] + survivorship_keys()) }}
{%- endmacro %}
