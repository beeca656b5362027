{#- The columns findings and quarantine share (marts-spec), typed for their contracts; findings
    also names the person a citizens row became. resolved_at stays null while a problem is open. -#}
{% macro issue_mart_columns(with_person_key=false, with_resolved_at=false) %}
    cast(source as {{ text_type() }}) as source,
    cast(source_file as {{ text_type() }}) as source_file,
    cast(row_number as integer) as row_number,
    {%- if with_person_key %}
    cast(person_key as {{ text_type() }}) as person_key,
    {%- endif %}
    cast(rule as {{ text_type() }}) as rule,
    cast(column_name as {{ text_type() }}) as {{ adapter.quote('column') }},
    cast(value as {{ text_type() }}) as value,
    cast(reason_vi as {{ text_type() }}) as reason_vi,
    cast(reason_en as {{ text_type() }}) as reason_en,
    cast(first_seen_at as timestamp) as first_seen_at,
    {%- if with_resolved_at %}
    cast(resolved_at as timestamp) as resolved_at,
    {%- else %}
    cast(null as timestamp) as resolved_at,
    {%- endif %}
    cast(column_name as {{ text_type() }}) as column_name,
    cast(residential_group_no as integer) as residential_group_no
{%- endmacro %}
