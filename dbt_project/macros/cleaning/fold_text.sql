{#-
    The matching form of a text: lower case, no diacritics (đ/Đ/ð/Ð -> d included), single spaces.
    `Nữ`, `NU`, `Nư` all fold to `nu`; `Thường trú` and `thuong  tru` to `thuong tru`. Only for
    comparing with enumerations: never published.
-#}
{% macro fold_text(column) -%}
    {{ blank_to_null(
        "lower(" ~ strip_accents("translate(" ~ nfc_normalize(column) ~ ", 'đĐðÐ', 'dDdD')") ~ ")"
    ) }}
{%- endmacro %}
