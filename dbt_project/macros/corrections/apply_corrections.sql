{#-
    A source's raw rows with the stewards' corrections applied, before any cleaning
    (ward/corrections: landing/corrections/ → raw/corrections/). A corrected cell takes the new
    value as if it had been delivered so; the row then goes through the same cleaning and rules.
    Of two corrections of one cell the latest wins (corrected_at, then the corrections file's name,
    then its line). `_corrected_cells` counts the row's corrected cells: the staging pre-hook
    (delete_restaged_rows) restages a file whose corrections changed.
-#}
{% macro apply_corrections(source_name, rows) %}
    {%- set columns = var('ward_canonical_columns')[source_name] -%}
    (
        with

        fixes as (
            select
                target_sha256,
                row_number,
                {{ adapter.quote('column') }},
                new_value
            from {{ source('landing', 'corrections') }}
            where status = 'accepted' and source = '{{ source_name }}'
            qualify row_number() over (
                partition by target_sha256, row_number, {{ adapter.quote('column') }}
                order by corrected_at desc, corrections_file desc, corrections_row desc
            ) = 1
        ),

        by_row as (
            select
                target_sha256,
                row_number,
                {%- for column in columns %}
                max(new_value) filter (where {{ adapter.quote('column') }} = '{{ column }}') as {{ column }},
                {%- endfor %}
                count(*) as corrected_cells
            from fixes
            group by target_sha256, row_number
        )

        select
            {%- set replacements = [] -%}
            {%- for column in columns -%}
                {%- do replacements.append((column, 'coalesce(fix.' ~ column ~ ', raw.' ~ column ~ ')')) -%}
            {%- endfor %}
            {{ star_replace('raw', source('landing', source_name), replacements) }},
            coalesce(fix.corrected_cells, 0) as _corrected_cells
        from {{ rows }} as raw
        left join by_row as fix
            on raw._file_sha256 = fix.target_sha256 and raw._row_number = fix.row_number
    )
{%- endmacro %}

{#- The staged files whose corrections changed since they were staged (incremental models only):
    the pre-hook delete_recorrected_files drops their rows and landing_rows stages them again. -#}
{% macro recorrected_files(source_name) %}
    select coalesce(staged.file_sha256, fixed.target_sha256)
    from (
        select file_sha256, sum(corrected_cells) as cells
        from {{ this }}
        group by file_sha256
    ) as staged
    full join (
        select target_sha256, count(*) as cells
        from (
            select distinct target_sha256, row_number, "column"
            from {{ source('landing', 'corrections') }}
            where status = 'accepted' and source = '{{ source_name }}'
        ) as cells
        group by target_sha256
    ) as fixed
        on staged.file_sha256 = fixed.target_sha256
    where coalesce(staged.cells, 0) <> coalesce(fixed.cells, 0)
{%- endmacro %}

{% macro delete_recorrected_files(source_name) %}
{%- if is_incremental() %}
delete from {{ this }} where file_sha256 in ({{ recorrected_files(source_name) }})
{%- endif %}
{% endmacro %}
