{#-
    The raw-lake rows a staging model reads (docs/architecture.md, "Incremental runs").
    Full build: every file of the source. Incremental build: only the files
    raw/<source>/<sha256>.parquet whose sha256 the staged table does not hold yet, so a daily
    extract cleans its own rows and nothing else. A raw file never changes (its name is its
    checksum), so a staged file is staged again only when its corrections changed
    (macros/corrections/apply_corrections.sql); `ward run --full-refresh` (and the nightly
    schedule) restage everything after a change of the cleaning rules.
    `_empty.parquet` always comes along: it carries the full column set and makes the list non-empty.
-#}
{% macro landing_rows(source_name) %}
    {%- set whole_source = source('landing', source_name) -%}
    {%- if not (execute and is_incremental()) -%}
        {{ whole_source }}
    {%- else -%}
        {%- set folder = env_var('WARD_DATA_DIR') ~ '/raw/' ~ source_name -%}
        {#- compiled before the pre-hook runs: the files it will drop to restage count as new -#}
        {%- set new_files = run_query(
            "select file from glob('" ~ folder ~ "/*.parquet') where parse_filename(file, true) not in "
            ~ "(select distinct file_sha256 from " ~ this ~ " where file_sha256 is not null) "
            ~ "or parse_filename(file, true) in (" ~ recorrected_files(source_name) ~ ") order by file"
        ).columns[0].values() -%}
        read_parquet([
            {%- for file in new_files %}'{{ file }}'{{ ', ' if not loop.last }}{% endfor -%}
        ], union_by_name = true)
    {%- endif -%}
{% endmacro %}
