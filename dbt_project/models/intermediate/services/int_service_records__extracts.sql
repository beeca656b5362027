-- The service_records extract dates: the latest one is "today" for the dossier figures (overdue,
-- open at month end). It comes from the ledger (a loaded extract with no changed dossier still
-- moves the date forward), falling back to the staged rows.
select max(extract_date) as latest_extract_date
from (
    select extract_date
    from {{ ref('stg_landing__deliveries') }}
    where source = 'service_records' and status = 'loaded'
    union all
    select extract_date
    from {{ ref('stg_landing__service_records') }}
) as extracts
