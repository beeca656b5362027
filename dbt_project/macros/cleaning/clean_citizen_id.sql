{#-
    The 12-digit personal ID (số định danh cá nhân, reference/README.md): `PPP G YY NNNNNN`, PPP a
    birth-registration province code of reference/id_birth_province_codes.csv.

    clean_citizen_id(col)   the 12 digits, or null
    citizen_id_status(col)  why: valid | missing | scientific | bad_format | bad_province
      valid         12 digits opening with a province code; or 10-11 digits (Excel dropped the
                    leading zeros) that, left-padded with zeros, open with a province code
      missing       empty cell
      scientific    Excel turned it into `3.10950E+11`: the last digits are gone, unrecoverable
      bad_format    anything else that is not 10-12 digits
      bad_province  digits of the right length whose (padded) opening is no province code
    Spaces inside the number (`031 095 012 345`) are ignored.
-#}
{#- 10-12 digits left-padded to 12, or null. -#}
{% macro _citizen_id_padded(column) -%}
    lpad(nullif({{ regexp_extract(
        regexp_replace_all(column, "'[\\s\\p{Z}]'", "''"), "'^[0-9]{10,12}$'"
    ) }}, ''), 12, '0')
{%- endmacro %}

{% macro clean_citizen_id(column) -%}
    {{ lookup_min(
        'ref.code',
        source('reference', 'id_birth_province_codes'),
        'ref.code = substr(' ~ _citizen_id_padded(column) ~ ', 1, 3)',
        'substr(' ~ _citizen_id_padded(column) ~ ', 4)'
    ) }}
{%- endmacro %}

{% macro citizen_id_status(column) -%}
    case
        when nullif({{ regexp_replace_all(column, "'[\\s\\p{Z}]'", "''") }}, '') is null then 'missing'
        when {{ regexp_full_match(
            column, "'[\\s\\p{Z}]*[0-9]+([.,][0-9]*)?[eE][+-]?[0-9]+[\\s\\p{Z}]*'"
        ) }} then 'scientific'
        when {{ _citizen_id_padded(column) }} is null then 'bad_format'
        when {{ clean_citizen_id(column) }} is not null then 'valid'
        else 'bad_province'
    end
{%- endmacro %}
