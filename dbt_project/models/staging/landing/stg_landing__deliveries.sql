-- The delivery ledger (raw/deliveries.parquet), one row per (source, file path, sha256) ever seen:
-- loaded, rejected (set aside with a reason) or duplicate (bytes already delivered); later held,
-- superseded or withdrawn (ward/deliveries: not built from). Typed only.
{{ config(materialized="table") }}
with

source as (
    select * from {{ source('landing', 'deliveries') }}
)

select
    {{ ward_code() }} as ward_code,
    cast(source as {{ text_type() }}) as source,
    cast(file_name as {{ text_type() }}) as file_name,
    cast(source_file as {{ text_type() }}) as source_file,
    cast(sha256 as {{ text_type() }}) as sha256,
    cast(extract_date as date) as extract_date,
    cast(status as {{ text_type() }}) as status,
    cast(reason_vi as {{ text_type() }}) as reason_vi,
    cast(reason_en as {{ text_type() }}) as reason_en,
    cast(rows_in as integer) as rows_in,
    cast(loaded_at as timestamp) as loaded_at,
    cast(file_format as {{ text_type() }}) as file_format,
    cast(encoding as {{ text_type() }}) as encoding,
    cast(separator as {{ text_type() }}) as separator,
    cast(header_row as integer) as header_row,
    cast(unknown_columns as {{ text_type() }}) as unknown_columns,
    cast(raw_path as {{ text_type() }}) as raw_path
from source
