{#-
    Free text (addresses, hometowns, procedure names): Unicode NFC, `Ð/ð` (U+00D0/U+00F0, a look-alike
    some lists carry) folded to `Đ/đ`, spaces collapsed, null when empty. Case is left as delivered.
-#}
{% macro clean_text(column) -%}
    {{ blank_to_null("replace(replace(nfc_normalize(" ~ column ~ "), 'Ð', 'Đ'), 'ð', 'đ')") }}
{%- endmacro %}
