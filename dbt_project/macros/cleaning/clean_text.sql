{#-
    Free text (addresses, hometowns, procedure names): zero-width and bidirectional control
    characters removed (U+200B..U+200F, U+202A..U+202E, U+2066..U+2069, U+FEFF: invisible, pasted in
    from web pages and word processors, and they make two equal names compare different), Unicode
    NFC, `Ð/ð` (U+00D0/U+00F0, a look-alike some lists carry) folded to `Đ/đ`, spaces collapsed,
    null when empty. Case is left as delivered. The raw lake keeps the cell as delivered.
-#}
{% macro clean_text(column) -%}
    {{ blank_to_null(
        "replace(replace(" ~ nfc_normalize(strip_invisible(column)) ~ ", 'Ð', 'Đ'), 'ð', 'đ')"
    ) }}
{%- endmacro %}

{#- `column` without zero-width and bidirectional control characters (see clean_text). -#}
{% macro strip_invisible(column) -%}
    {{ regexp_replace_all(
        column, "'[\\x{200B}-\\x{200F}\\x{202A}-\\x{202E}\\x{2066}-\\x{2069}\\x{FEFF}]'", "''"
    ) }}
{%- endmacro %}
