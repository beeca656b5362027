{#-
    The old 9-digit identity card number (CMND). Spaces ignored; 8 digits are taken as a CMND whose
    leading zero Excel dropped (`31234567` -> `031234567`). Null otherwise. It carries no birth data,
    so nothing more can be checked.
-#}
{% macro clean_legacy_id(column) -%}
    case
        when {{ regexp_full_match(regexp_replace_all(blank_to_null(column), "'[\\s\\p{Z}]'", "''"), "'[0-9]{8,9}'") }}
            then lpad({{ regexp_replace_all(blank_to_null(column), "'[\\s\\p{Z}]'", "''") }}, 9, '0')
    end
{%- endmacro %}
