-- Staged households rows with no quarantine issue: the rows the warehouse takes.
select staged.*
from {{ ref('stg_landing__households') }} as staged
anti join {{ ref('int_quarantined_rows') }} as quarantined
    on
        quarantined.source = 'households'
        and staged.file_sha256 = quarantined.file_sha256
        and staged.row_number = quarantined.row_number
