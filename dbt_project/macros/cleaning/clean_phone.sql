{#-
    Vietnamese phone numbers to the 10-digit national form `0xxxxxxxxx`:
    - digits only (spaces, dots, dashes, brackets dropped);
    - international forms `+84 912...`, `84912...`, `0084912...` -> `0912...`;
    - pre-2018 11-digit mobile numbers (`0162 xxx xxxx`) -> the new 3-digit prefix of
      reference/phone_prefix_2018.csv + the same last 7 digits (`032 xxx xxxx`).

    clean_phone(col)   10 digits starting with 0, or null
    phone_status(col)  valid | converted (an old 11-digit number, converted) | missing | bad_format
-#}
{% macro _phone_national(column) -%}
    {{ regexp_replace_once(
        regexp_replace_all(column, "'[^0-9]'", "''"), "'^(0084|84)([1-9][0-9]{8,9})$'", "'0\\2'"
    ) }}
{%- endmacro %}

{#- An old 11-digit mobile number converted, or null. -#}
{% macro _phone_converted(column) -%}
    {{ lookup_min(
        'ref.new_prefix',
        source('reference', 'phone_prefix_2018'),
        'ref.old_prefix = substr(' ~ _phone_national(column) ~ ', 1, 4) and length('
            ~ _phone_national(column) ~ ') = 11',
        'substr(' ~ _phone_national(column) ~ ', 5)'
    ) }}
{%- endmacro %}

{% macro clean_phone(column) -%}
    coalesce(
        nullif({{ regexp_extract(_phone_national(column), "'^0[0-9]{9}$'") }}, ''),
        {{ _phone_converted(column) }}
    )
{%- endmacro %}

{% macro phone_status(column) -%}
    case
        when nullif(trim({{ regexp_replace_all(column, "'[\\s\\p{Z}]+'", "' '") }}), '') is null then 'missing'
        when {{ regexp_full_match(_phone_national(column), "'0[0-9]{9}'") }} then 'valid'
        when {{ _phone_converted(column) }} is not null then 'converted'
        else 'bad_format'
    end
{%- endmacro %}
