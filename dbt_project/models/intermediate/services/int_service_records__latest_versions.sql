-- Each dossier's latest version: a dossier appears again in a later extract whenever its status
-- changes, and the latest updated_at wins; ties go to the latest extract date, then the highest
-- row_number (then the file path, so the pick never depends on the engine's order).
with

ranked as (
    select
        *,
        row_number() over (
            partition by record_id
            order by
                updated_at desc nulls last,
                extract_date desc,
                row_number desc,
                source_file desc
        ) as pick,
        count(*) over (partition by record_id) as versions
    from {{ ref('int_service_records__kept_rows') }}
)

select * exclude (pick)
from ranked
where pick = 1
