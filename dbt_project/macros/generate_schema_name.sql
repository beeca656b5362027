{#-
    Schemas are exactly the folder's `+schema` (`staging`, `intermediate`, `marts`), not dbt's default
    `<target schema>_<custom schema>`: analysts query `marts.dim_citizen`, the quality step reads
    `staging.stg_landing__citizens`. A model without a custom schema lands in the target schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
