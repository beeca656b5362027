{#- Replace every match: DuckDB needs the `'g'` option and writes groups `\2`; Spark replaces every
    match always (its 4th argument is a position) and writes groups `$2`. -#}
{% macro regexp_replace_all(column, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all')(column, pattern, replacement)) }}
{%- endmacro %}

{% macro duckdb__regexp_replace_all(column, pattern, replacement) -%}
    regexp_replace({{ column }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(column, pattern, replacement) -%}
    regexp_replace(
        {{ column }}, {{ spark_regex_literal(pattern) }}, {{ modules.re.sub('\\\\([0-9])', '$\\1', replacement) }}
    )
{%- endmacro %}

{#- Replace the first match: DuckDB's `regexp_replace` without options. Spark replaces every match,
    which is the same only for a pattern anchored at both ends (`^…$`, one match at most): refused
    otherwise. -#}
{% macro regexp_replace_once(column, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_once')(column, pattern, replacement)) }}
{%- endmacro %}

{% macro duckdb__regexp_replace_once(column, pattern, replacement) -%}
    regexp_replace({{ column }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}

{% macro spark__regexp_replace_once(column, pattern, replacement) -%}
    {%- if not (pattern.startswith("'^") and pattern.endswith("$'")) -%}
        {{ exceptions.raise_compiler_error("regexp_replace_once on Spark needs a pattern anchored ^…$: " ~ pattern) }}
    {%- endif -%}
    {{ spark__regexp_replace_all(column, pattern, replacement) }}
{%- endmacro %}
