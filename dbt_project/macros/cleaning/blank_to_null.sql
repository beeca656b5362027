{#-
    A delivered cell as text, trimmed; null when empty or only spaces (incl. no-break spaces).
    Every other cleaning macro starts from it.
-#}
{% macro blank_to_null(column) -%}
    nullif(trim({{ regexp_replace_all(column, "'[\\s\\p{Z}]+'", "' '") }}), '')
{%- endmacro %}
