-- One row per file ever dropped in the landing folder (the ledger), with what became of its rows:
-- rows_kept reached the kept models (int_<source>__kept_rows), rows_quarantined are the distinct
-- rows with at least one quarantine issue. Both are null unless the file is loaded (rejected,
-- duplicate, held, superseded, withdrawn: no row of it is built from). For a loaded file
-- rows_in = rows_kept + rows_quarantined (tests/assert_deliveries_conserve_rows.sql).
with

ledger as (
    select * from {{ ref('stg_landing__deliveries') }}
),

kept as (
    select
        file_sha256,
        count(*) as rows_kept
    from (
        select file_sha256 from {{ ref('int_citizens__kept_rows') }}
        union all
        select file_sha256 from {{ ref('int_households__kept_rows') }}
        union all
        select file_sha256 from {{ ref('int_service_records__kept_rows') }}
    ) as kept_rows
    group by file_sha256
),

quarantined as (
    select
        file_sha256,
        count(*) as rows_quarantined
    from {{ ref('int_quarantined_rows') }}
    group by file_sha256
)

select
    {{ ward_code() }} as ward_code,
    cast(ledger.source as {{ text_type() }}) as source,
    cast(ledger.file_name as {{ text_type() }}) as file_name,
    cast(ledger.sha256 as {{ text_type() }}) as sha256,
    cast(ledger.extract_date as date) as extract_date,
    cast(ledger.status as {{ text_type() }}) as status,
    cast(ledger.reason_vi as {{ text_type() }}) as reason_vi,
    cast(ledger.reason_en as {{ text_type() }}) as reason_en,
    cast(ledger.rows_in as bigint) as rows_in,
    cast(case when ledger.status = 'loaded' then coalesce(kept.rows_kept, 0) end as bigint)
        as rows_kept,
    cast(
        case when ledger.status = 'loaded' then coalesce(quarantined.rows_quarantined, 0) end
        as bigint
    ) as rows_quarantined,
    cast(ledger.loaded_at as timestamp) as loaded_at,
    cast(ledger.source_file as {{ text_type() }}) as source_file,
    cast(ledger.file_format as {{ text_type() }}) as file_format,
    cast(ledger.encoding as {{ text_type() }}) as encoding,
    cast(ledger.separator as {{ text_type() }}) as separator,
    cast(ledger.header_row as integer) as header_row,
    cast(ledger.unknown_columns as {{ text_type() }}) as unknown_columns
from ledger
left join kept
    on ledger.status = 'loaded' and ledger.sha256 = kept.file_sha256
left join quarantined
    on ledger.status = 'loaded' and ledger.sha256 = quarantined.file_sha256
