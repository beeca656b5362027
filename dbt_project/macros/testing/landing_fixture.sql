{#-
    For unit tests (`format: sql` fixtures): an empty relation with the raw-lake columns of a source,
    typed as the ingest writes them (docs/architecture.md). A fixture then adds only the cells it is
    about, the rest null:

        {{ landing_fixture('citizens') }}
        union all by name
        select * from (values (1, 'TDP 5')) as t (_row_number, residential_group)

    Why: dbt builds dict/csv fixtures from the columns of the real input relation, and an external
    source (`read_parquet(...)`, dbt-duckdb `external_location`) is no relation it can look up, so
    such fixtures fail with "Not able to get columns for unit test". SQL fixtures need no look-up.
-#}
{% macro landing_fixture(source_name) -%}
    {%- set lineage = {
        '_source': 'varchar', '_source_file': 'varchar', '_row_number': 'integer',
        '_file_sha256': 'varchar', '_extract_date': 'date', '_loaded_at': 'timestamp',
        '_extra_columns': 'varchar',
    } -%}
    select
        {%- for column in var('ward_canonical_columns')[source_name] %}
        cast(null as varchar) as {{ column }},
        {%- endfor %}
        {%- for column, type in lineage.items() %}
        cast(null as {{ type }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    where false
{%- endmacro %}

{#- The reference tables the cleaning macros read, as small fixtures (`format: sql`). -#}
{% macro reference_fixture(table_name) -%}
    {%- if table_name == 'id_birth_province_codes' -%}
        select * from (values ('001'), ('031'), ('036')) as t (code)
    {%- elif table_name == 'phone_prefix_2018' -%}
        select * from (values ('0162', '032'), ('0120', '070')) as t (old_prefix, new_prefix)
    {%- elif table_name == 'ethnic_groups' -%}
        select * from (values ('01', 'Kinh'), ('02', 'Tày'), ('04', 'Mường')) as t (code, name)
    {%- elif table_name == 'religions' -%}
        select * from (values ('00', 'Không'), ('01', 'Phật giáo'), ('02', 'Công giáo')) as t (code, name)
    {%- else -%}
        {{ exceptions.raise_compiler_error('no reference fixture for ' ~ table_name) }}
    {%- endif -%}
{%- endmacro %}

{#- For unit tests of the staging models: no corrections (macros/corrections/apply_corrections.sql). -#}
{% macro corrections_fixture() -%}
    select
        cast(null as varchar) as target_sha256,
        cast(null as bigint) as row_number,
        cast(null as varchar) as "column",
        cast(null as varchar) as new_value,
        cast(null as varchar) as status,
        cast(null as varchar) as source,
        cast(null as date) as corrected_at,
        cast(null as varchar) as corrections_file,
        cast(null as bigint) as corrections_row
    where false
{%- endmacro %}
