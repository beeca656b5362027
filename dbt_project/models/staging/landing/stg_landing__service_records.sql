-- One row per delivered dossier version (service_records) of the raw lake: renamed, cast, cleaned;
-- nothing dropped, no version picked (intermediate/services does that). Cleaned columns whose
-- cleaning can fail keep the delivered text beside them as <column>_raw.
-- Each distinct delivered value is cleaned once (macros/cleaning/distinct_values.sql) and joined
-- back to its rows by its raw text: versions repeat their dossier's cells, dates repeat by the day.
{{ config(pre_hook="{{ delete_recorrected_files('service_records') }}") }}
with

source as (
    select * from {{ apply_corrections('service_records', landing_rows('service_records')) }}
),

-- free text: record ID, procedure code, name and domain share one dictionary
texts as (
    select
        raw_value,
        {{ clean_text('raw_value') }} as cleaned
    from {{ distinct_values('source', ['record_id', 'procedure_code', 'procedure_name', 'domain']) }}
),

citizen_ids as (
    select
        raw_value,
        {{ clean_citizen_id('raw_value') }} as citizen_id,
        {{ citizen_id_status('raw_value') }} as citizen_id_status
    from {{ distinct_values('source', ['applicant_id']) }}
),

names as (
    select
        raw_value,
        {{ clean_name('raw_value') }} as cleaned
    from {{ distinct_values('source', ['applicant_name']) }}
),

phones as (
    select
        raw_value,
        {{ clean_phone('raw_value') }} as phone,
        {{ phone_status('raw_value') }} as phone_status
    from {{ distinct_values('source', ['applicant_phone']) }}
),

channels as (
    select
        raw_value,
        {{ map_enumeration('raw_value', var('ward_channel_codes')) }} as channel
    from {{ distinct_values('source', ['channel']) }}
),

-- dates: one dictionary for the four date columns, each cell parsed as a date and a timestamp
dates as (
    select
        raw_value,
        {{ parse_date('raw_value') }} as parsed_date,
        {{ parse_timestamp('raw_value') }} as parsed_timestamp
    from {{ distinct_values('source', ['received_at', 'due_at', 'completed_at', 'updated_at']) }}
),

statuses as (
    select
        raw_value,
        {{ map_enumeration('raw_value', var('ward_statuses')) }} as status
    from {{ distinct_values('source', ['status']) }}
),

supplement_counts as (
    select
        raw_value,
        {{ parse_count('raw_value', empty_as=0) }} as supplement_count
    from {{ distinct_values('source', ['supplement_count']) }}
),

yes_no as (
    select
        raw_value,
        {{ map_enumeration('raw_value', var('ward_yes_no')) }} as digitized
    from {{ distinct_values('source', ['digitized']) }}
)

select
    -- the ward (one data root, one ward; a city unions its wards' rows)
    {{ ward_code() }} as ward_code,

    -- lineage
    {{ lineage_columns() }},

    -- dossier
    record_ids.cleaned as record_id,
    procedure_codes.cleaned as procedure_code,
    procedure_names.cleaned as procedure_name,
    domains.cleaned as domain,

    -- applicant
    citizen_ids.citizen_id as applicant_id,
    citizen_ids.citizen_id_status as applicant_id_status,
    source.applicant_id as applicant_id_raw,
    names.cleaned as applicant_name,
    source.applicant_name as applicant_name_raw,
    phones.phone as applicant_phone,
    phones.phone_status as applicant_phone_status,
    source.applicant_phone as applicant_phone_raw,
    channels.channel,
    source.channel as channel_raw,

    -- dates (received_at may carry a time of day; the KPIs count by date)
    received.parsed_timestamp as received_at,
    received.parsed_date as received_date,
    source.received_at as received_at_raw,
    due.parsed_date as due_date,
    source.due_at as due_at_raw,
    completed.parsed_date as completed_date,
    source.completed_at as completed_at_raw,

    -- processing
    statuses.status,
    source.status as status_raw,
    supplement_counts.supplement_count,
    source.supplement_count as supplement_count_raw,
    yes_no.digitized,
    source.digitized as digitized_raw,
    updated.parsed_timestamp as updated_at,
    source.updated_at as updated_at_raw
from source
left join texts as record_ids on source.record_id is not distinct from record_ids.raw_value
left join texts as procedure_codes on source.procedure_code is not distinct from procedure_codes.raw_value
left join texts as procedure_names on source.procedure_name is not distinct from procedure_names.raw_value
left join texts as domains on source.domain is not distinct from domains.raw_value
left join citizen_ids on source.applicant_id is not distinct from citizen_ids.raw_value
left join names on source.applicant_name is not distinct from names.raw_value
left join phones on source.applicant_phone is not distinct from phones.raw_value
left join channels on source.channel is not distinct from channels.raw_value
left join dates as received on source.received_at is not distinct from received.raw_value
left join dates as due on source.due_at is not distinct from due.raw_value
left join dates as completed on source.completed_at is not distinct from completed.raw_value
left join statuses on source.status is not distinct from statuses.raw_value
left join supplement_counts on source.supplement_count is not distinct from supplement_counts.raw_value
left join yes_no on source.digitized is not distinct from yes_no.raw_value
left join dates as updated on source.updated_at is not distinct from updated.raw_value
