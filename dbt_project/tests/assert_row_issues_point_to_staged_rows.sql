{{ config(severity='error') }}
-- Every row issue of the quality step names a row of a loaded file (source, source_file,
-- row_number). An issue that points nowhere would quarantine nothing, and deliveries could not
-- count it: the conservation check would no longer see the row it was about.
select
    source,
    source_file,
    row_number,
    rule
from {{ ref('int_row_issues__located') }}
where file_sha256 is null
