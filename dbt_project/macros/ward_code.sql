{#- The ward this build serves, as a varchar literal: the `ward_code` column of every staged row
    and every mart (one expression, here). The value is the `ward_code` var (dbt_project.yml:
    WARD_CODE, from ward.settings.Settings.dbt_env(), which checks it against admin_units_2025.csv);
    it is checked again here, since it is written into the SQL. -#}
{% macro ward_code() %}
    {%- set code = var('ward_code') | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{5}', code) -%}
        {{ exceptions.raise_compiler_error(
            "WARD_CODE is refused: " ~ (code | tojson) ~ " is not a 5-digit ward code of "
            ~ "admin_units_2025.csv (the `ward_code` var of dbt_project.yml)."
        ) }}
    {%- endif -%}
    cast('{{ code }}' as {{ text_type() }})
{%- endmacro %}
