{{ config(severity='error') }}
-- Nothing lost (extract-spec): every row of every loaded file ends up either kept or in quarantine,
-- so rows_in = rows_kept + rows_quarantined, per file. A failing row is a file whose rows went
-- missing (or were counted twice) between the ingest, staging, the quality step and the kept models.
select
    source,
    file_name,
    sha256,
    rows_in,
    rows_kept,
    rows_quarantined
from {{ ref('deliveries') }}
where
    status = 'loaded'
    and rows_in is distinct from rows_kept + rows_quarantined
