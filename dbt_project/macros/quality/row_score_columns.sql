{#-
    The scorecard columns of one staged model (models/intermediate/quality/int_quality__row_scores):
      required_filled / required_total  required cells (var ward_required_columns) delivered
                                        non-empty: `<col>_raw` when the model keeps it, else `<col>`
      has_format_fault  some cleaned column is null although its `<col>_raw` was delivered non-empty
    The model's columns are read from the built staging table, so a column added to staging with a
    `_raw` twin is scored without anyone editing this macro.
-#}
{% macro row_score_columns(source_name, relation) -%}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do columns.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set cleaned_with_raw = [] -%}
    {%- for column in columns -%}
        {%- if column.endswith('_raw') and column[:-4] in columns -%}
            {%- do cleaned_with_raw.append(column[:-4]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set required = var('ward_required_columns')[source_name] -%}
    '{{ source_name }}' as source,
    file_sha256,
    row_number,
    extract_date,
    {{ 'residential_group_no' if 'residential_group_no' in columns else 'cast(null as integer)' }}
        as residential_group_no,
    0
    {%- for column in required %}
    + case
        when {{ blank_to_null(column ~ '_raw' if column ~ '_raw' in columns else column) }}
            is not null then 1
        else 0
    end
    {%- endfor %} as required_filled,
    {{ required | length }} as required_total,
    false
    {%- for column in cleaned_with_raw %}
    or ({{ blank_to_null(column ~ '_raw') }} is not null and {{ column }} is null)
    {%- endfor %} as has_format_fault
{%- endmacro %}
