{#-
    An enumeration cell to its code or canonical word. `mapping` is {delivered word: value} (the
    `ward_*` vars of dbt_project.yml); both sides are compared folded (fold_text: case, diacritics,
    spaces), so `NAM`, `nam` and `Nam` map alike, and `Nu`, `Nư`, `Nữ` too. Unknown words give null
    (the `<col>_raw` column beside keeps what was delivered). A list maps each word to itself.
    `default` is the value of an empty cell (nationality: `Việt Nam`).
-#}
{% macro map_enumeration(column, mapping, default=none) -%}
    {%- if mapping is mapping -%}
        {%- set pairs = mapping.items() | list -%}
    {%- else -%}
        {%- set pairs = [] -%}
        {%- for word in mapping -%}{%- do pairs.append((word, word)) -%}{%- endfor -%}
    {%- endif -%}
    {%- if default is not none %}
    case when {{ blank_to_null(column) }} is null then {{ _enumeration_literal(default) }} else
    {%- endif %}
    case {{ fold_text(column) }}
        {%- for word, value in pairs %}
        when {{ fold_text(dbt.string_literal(word)) }} then {{ _enumeration_literal(value) }}
        {%- endfor %}
    end
    {%- if default is not none %} end{% endif %}
{%- endmacro %}

{% macro _enumeration_literal(value) -%}
    {%- if value is sameas true -%}true
    {%- elif value is sameas false -%}false
    {%- else -%}{{ dbt.string_literal(value) }}
    {%- endif -%}
{%- endmacro %}
