-- One row per dossier: its latest version (intermediate/services).
--   is_finished  latest status Đã trả kết quả or Từ chối (a refusal is a result)
--   is_on_time   finished, completed_date on or before due_date, at most one supplement request
--                (Decision 766/QĐ-TTg); false otherwise, also when the completion date is unknown
--   is_overdue   finished late (completed_date after due_date), or not finished, not withdrawn and
--                due_date before the latest service_records extract date
--   applicant_person_key  the applicant as resolved by the identity step (by personal ID, else by
--                         name and phone pointing to exactly one person), null when none matched
with

dossiers as (
    select * from {{ ref('int_service_records__latest_versions') }}
),

extracts as (
    select latest_extract_date from {{ ref('int_service_records__extracts') }}
),

applicants as (
    select * from {{ source('identity', 'applicant_persons') }}
),

flagged as (
    select
        dossiers.*,
        applicants.applicant_person_key,
        extracts.latest_extract_date,
        dossiers.status in {{ sql_list(var('ward_finished_statuses')) }} as finished,
        dossiers.status = '{{ var("ward_withdrawn_status") }}' as withdrawn
    from dossiers
    cross join extracts
    left join applicants
        on
            dossiers.file_sha256 = applicants.file_sha256
            and dossiers.row_number = applicants.row_number
)

select
    {{ ward_code() }} as ward_code,
    cast(record_id as {{ text_type() }}) as record_id,
    cast(procedure_code as {{ text_type() }}) as procedure_code,
    cast(procedure_name as {{ text_type() }}) as procedure_name,
    cast(domain as {{ text_type() }}) as domain,
    cast(channel as {{ text_type() }}) as channel,
    cast(received_date as date) as received_date,
    cast(due_date as date) as due_date,
    cast(completed_date as date) as completed_date,
    cast(status as {{ text_type() }}) as status,
    cast(supplement_count as integer) as supplement_count,
    cast(finished as boolean) as is_finished,
    cast(
        finished
        and coalesce(completed_date <= due_date, false)
        and coalesce(supplement_count, 0) <= 1
        as boolean
    ) as is_on_time,
    cast(
        (finished and coalesce(completed_date > due_date, false))
        or (not finished and not withdrawn and due_date < latest_extract_date)
        as boolean
    ) as is_overdue,
    cast(applicant_person_key as {{ text_type() }}) as applicant_person_key,
    cast(withdrawn as boolean) as is_withdrawn,
    cast(digitized as boolean) as digitized,
    cast(updated_at as timestamp) as updated_at,
    cast(extract_date as date) as extract_date,
    cast(versions as integer) as versions_seen
from flagged
