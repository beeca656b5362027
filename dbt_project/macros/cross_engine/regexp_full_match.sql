{#- Whole-string regex match: DuckDB's `regexp_full_match`; Spark has none, `rlike` anchored
    (`\z`: Java's `$` would also match before a final line break). -#}
{% macro regexp_full_match(column, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match')(column, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_full_match(column, pattern) -%}
    regexp_full_match({{ column }}, {{ pattern }})
{%- endmacro %}

{% macro spark__regexp_full_match(column, pattern) -%}
    ({{ column }} rlike concat('^(?:', {{ spark_regex_literal(pattern) }}, ')\\z'))
{%- endmacro %}

{#- A regex match anywhere in the text: DuckDB's `regexp_matches`, Spark's `rlike`. -#}
{% macro regexp_matches(column, pattern) -%}
    {{ return(adapter.dispatch('regexp_matches')(column, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_matches(column, pattern) -%}
    regexp_matches({{ column }}, {{ pattern }})
{%- endmacro %}

{% macro spark__regexp_matches(column, pattern) -%}
    ({{ column }} rlike {{ spark_regex_literal(pattern) }})
{%- endmacro %}
