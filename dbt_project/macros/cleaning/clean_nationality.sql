{#-
    Nationality: `Việt Nam` when the cell is empty (extract-spec) or any spelling of it (`VIET NAM`,
    `Vietnam`, `Việt nam`); other nationalities as clean text.
-#}
{% macro clean_nationality(column) -%}
    case
        when {{ blank_to_null(column) }} is null then 'Việt Nam'
        when replace({{ fold_text(column) }}, ' ', '') = 'vietnam' then 'Việt Nam'
        else {{ clean_text(column) }}
    end
{%- endmacro %}
