-- The delivered rows the warehouse does not take: one row per staged row with at least one
-- `quarantine` issue. Every kept-rows model leaves these out; deliveries counts them per file.
select
    source,
    file_sha256,
    source_file,
    row_number,
    count(*) as quarantine_issues
from {{ ref('int_row_issues__located') }}
where outcome = 'quarantine'
group by source, file_sha256, source_file, row_number
