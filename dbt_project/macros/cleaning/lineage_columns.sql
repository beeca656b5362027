{#- The raw lake's lineage columns, renamed for the staged models (docs/architecture.md, "Raw lake"). -#}
{% macro lineage_columns() %}
    cast(_source_file as {{ text_type() }}) as source_file,
    cast(_row_number as integer) as row_number,
    cast(_file_sha256 as {{ text_type() }}) as file_sha256,
    cast(_extract_date as date) as extract_date,
    cast(_loaded_at as timestamp) as loaded_at,
    cast(_extra_columns as {{ text_type() }}) as extra_columns,
    -- cells a steward corrected (landing/corrections/): the delivered text is in the raw file
    cast(coalesce(_corrected_cells, 0) as integer) as corrected_cells,
    -- when this row was staged: the quality step re-checks a file whose rows were staged again
    current_timestamp::timestamp as staged_at
{%- endmacro %}
