{#-
    A name from a reference list (ethnic groups, religions) as the list writes it, matched folded
    (fold_text: case, diacritics, spaces): `kinh`, `KINH` -> `Kinh`; `Phat giao` -> `Phật giáo`.
    Null when the list does not hold it (the `<col>_raw` column keeps what was delivered).
-#}
{% macro match_reference_name(column, reference_relation, name_column='name') -%}
    (
        select min(ref.{{ name_column }})
        from {{ reference_relation }} as ref
        where {{ fold_text('ref.' ~ name_column) }} = {{ fold_text(column) }}
    )
{%- endmacro %}
