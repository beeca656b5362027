-- One row per delivered dossier version (service_records) of the raw lake: renamed, cast, cleaned;
-- nothing dropped, no version picked (intermediate/services does that). Cleaned columns whose
-- cleaning can fail keep the delivered text beside them as <column>_raw.
{{ config(pre_hook="{{ delete_recorrected_files('service_records') }}") }}
with

source as (
    select * from {{ apply_corrections('service_records', landing_rows('service_records')) }}
)

select
    -- lineage
    {{ lineage_columns() }},

    -- dossier
    {{ clean_text('record_id') }} as record_id,
    {{ clean_text('procedure_code') }} as procedure_code,
    {{ clean_text('procedure_name') }} as procedure_name,
    {{ clean_text('domain') }} as domain,

    -- applicant
    {{ clean_citizen_id('applicant_id') }} as applicant_id,
    {{ citizen_id_status('applicant_id') }} as applicant_id_status,
    applicant_id as applicant_id_raw,
    {{ clean_name('applicant_name') }} as applicant_name,
    applicant_name as applicant_name_raw,
    {{ clean_phone('applicant_phone') }} as applicant_phone,
    {{ phone_status('applicant_phone') }} as applicant_phone_status,
    applicant_phone as applicant_phone_raw,
    {{ map_enumeration('channel', var('ward_channel_codes')) }} as channel,
    channel as channel_raw,

    -- dates (received_at may carry a time of day; the KPIs count by date)
    {{ parse_timestamp('received_at') }} as received_at,
    {{ parse_date('received_at') }} as received_date,
    received_at as received_at_raw,
    {{ parse_date('due_at') }} as due_date,
    due_at as due_at_raw,
    {{ parse_date('completed_at') }} as completed_date,
    completed_at as completed_at_raw,

    -- processing
    {{ map_enumeration('status', var('ward_statuses')) }} as status,
    status as status_raw,
    {{ parse_count('supplement_count', empty_as=0) }} as supplement_count,
    supplement_count as supplement_count_raw,
    {{ map_enumeration('digitized', var('ward_yes_no')) }} as digitized,
    digitized as digitized_raw,
    {{ parse_timestamp('updated_at') }} as updated_at,
    updated_at as updated_at_raw
from source
