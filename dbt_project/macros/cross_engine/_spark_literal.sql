{#- Spark's parser reads a backslash in a string literal as an escape (`'\s'` is `s`) where DuckDB
    keeps it: a regex literal handed to Spark has its backslashes doubled. Spark only. -#}
{% macro spark_regex_literal(pattern) -%}
    {{ pattern | replace('\\', '\\\\') }}
{%- endmacro %}
