-- One row per month per procedure code, and per month for all procedures (procedure_code `ALL`),
-- every month from the earliest receipt to the latest service_records extract date, zero rows
-- included. Rates are shares in 0..1, unrounded, null when their denominator is 0.
--   received, received_online   by month of receipt (online = channel Trực tuyến)
--   finished, finished_on_time  by month of completion (finished = latest status Đã trả kết quả
--                               or Từ chối; on time as in fct_service_record)
--   open_overdue_at_month_end   dossiers received by day D, not finished by D (finished with
--                               completed_date <= D), not withdrawn, and due_date < D; D = the
--                               month's last day, or for the month of the latest extract the extract
--                               date. A finished dossier whose completion date is unknown is never
--                               counted open.
-- Dossiers without a procedure code count in `ALL` only.
-- Added columns (marts-spec allows additions; the row set is unchanged):
--   procedure_name    the latest name seen for the code in fct_service_record (the dossier of the
--                     latest extract, then the latest updated_at, then the highest record_id);
--                     'Tất cả thủ tục' for ALL
--   is_partial_month  the month of the latest extract date, when that date is not its last day:
--                     its figures cover part of the month only
with

dossiers as (
    select * from {{ ref('fct_service_record') }}
),

extracts as (
    select latest_extract_date from {{ ref('int_service_records__extracts') }}
),

bounds as (
    select
        cast(date_trunc('month', min(dossiers.received_date)) as date) as first_month,
        cast(date_trunc('month', any_value(extracts.latest_extract_date)) as date) as last_month,
        any_value(extracts.latest_extract_date) as latest_extract_date
    from dossiers
    cross join extracts
),

months as (
    select
        cast(spine.month as date) as month,
        case
            when cast(spine.month as date) = bounds.last_month then bounds.latest_extract_date
            else last_day(cast(spine.month as date))
        end as day_d
    from {{ month_series_between(
        'bounds',
        'cast(bounds.first_month as timestamp)',
        'cast(bounds.last_month as timestamp)',
        'spine',
        'month'
    ) }}
),

procedures as (
    select distinct procedure_code
    from dossiers
    where procedure_code is not null
    union all
    select 'ALL' as procedure_code
),

procedure_names as (
    select
        procedure_code,
        procedure_name
    from dossiers
    where procedure_code is not null and procedure_name is not null
    qualify
        row_number() over (
            partition by procedure_code
            order by extract_date desc nulls last, updated_at desc nulls last, record_id desc
        ) = 1
    union all
    select
        'ALL' as procedure_code,
        'Tất cả thủ tục' as procedure_name
),

dossier_procedures as (
    -- each dossier counts under its own procedure and under ALL
    select
        *,
        procedure_code as kpi_procedure_code
    from dossiers
    where procedure_code is not null
    union all
    select
        *,
        'ALL' as kpi_procedure_code
    from dossiers
),

received as (
    select
        kpi_procedure_code as procedure_code,
        cast(date_trunc('month', received_date) as date) as month,
        count(*) as received,
        count(*) filter (where channel = 'truc_tuyen') as received_online
    from dossier_procedures
    group by all
),

finished as (
    select
        kpi_procedure_code as procedure_code,
        cast(date_trunc('month', completed_date) as date) as month,
        count(*) as finished,
        count(*) filter (where is_on_time) as finished_on_time
    from dossier_procedures
    where is_finished and completed_date is not null
    group by all
),

open_overdue as (
    select
        d.kpi_procedure_code as procedure_code,
        m.month,
        count(*) as open_overdue_at_month_end
    from months as m
    inner join dossier_procedures as d
        on
            m.day_d >= d.received_date
            and m.day_d > d.due_date
            and not d.is_withdrawn
            and not (d.is_finished and (m.day_d >= d.completed_date or d.completed_date is null))
    group by all
),

grid as (
    select
        months.month,
        procedures.procedure_code,
        months.month = bounds.last_month
        and bounds.latest_extract_date < last_day(bounds.last_month) as is_partial_month
    from months
    cross join procedures
    cross join bounds
)

select
    {{ ward_code() }} as ward_code,
    cast(grid.month as date) as month,
    cast(grid.procedure_code as {{ text_type() }}) as procedure_code,
    cast(coalesce(received.received, 0) as bigint) as received,
    cast(coalesce(received.received_online, 0) as bigint) as received_online,
    cast(coalesce(finished.finished, 0) as bigint) as finished,
    cast(coalesce(finished.finished_on_time, 0) as bigint) as finished_on_time,
    cast(finished.finished_on_time / nullif(finished.finished, 0) as double) as on_time_rate,
    cast(received.received_online / nullif(received.received, 0) as double) as online_rate,
    cast(coalesce(open_overdue.open_overdue_at_month_end, 0) as bigint) as open_overdue_at_month_end,
    cast(procedure_names.procedure_name as {{ text_type() }}) as procedure_name,
    cast(grid.is_partial_month as boolean) as is_partial_month
from grid
left join received
    on grid.month = received.month and grid.procedure_code = received.procedure_code
left join finished
    on grid.month = finished.month and grid.procedure_code = finished.procedure_code
left join open_overdue
    on grid.month = open_overdue.month and grid.procedure_code = open_overdue.procedure_code
left join procedure_names
    on grid.procedure_code = procedure_names.procedure_code
