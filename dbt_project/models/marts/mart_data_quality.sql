-- The ward's data-quality scorecard: one row per (source, dimension, metric, residential_group_no),
-- residential_group_no null for the whole ward, for the latest extract of each source. Metrics
-- (`unit` tells a 0..1 `share` from a `count` and from `days`; denominator = what the share is of).
-- Nothing here reads the clock: a run that brings no new file changes no figure. Ages are counted
-- to the ward's newest extract of any source (the date the data describes), not to the build day;
-- how old the data is at this moment is Dagster's freshness check, evaluated on a timer.
--   dung        rows_passing_rules          share of rows no rule of expectations/rules.yml fired on
--   du          required_fields_filled      share of required cells (ward/sources.py) delivered non-empty
--   sach        rows_without_format_faults  share of rows whose every delivered cell could be read
--   song        days_since_latest_extract   days: from the source's latest extract to the newest
--                                           extract of any source (unit days)
--   song        latest_extract_within_threshold  1 when that age is within the source's freshness
--                                           threshold (WARD_FRESHNESS_*_DAYS), else 0 (ward only)
--   song        records_updated_last_12_months  share of the latest snapshot's persons / households
--                                           (service records: dossiers) updated within 12 months of it
--   thong_nhat  citizens_with_valid_id      share of persons of the latest snapshot with a valid
--                                           12-digit personal ID (the spec's identity)
--   thong_nhat  households_with_one_head    share of households (latest snapshot) with exactly one
--                                           resident member whose relation is Chủ hộ
--   thong_nhat  citizens_matched_to_households  share of persons of the latest snapshot whose household
--                                           is in the households snapshot of the same date
--   thong_nhat  applicants_matched_to_persons  share of dossiers whose applicant is a known person
--   dung_chung  marts_with_rows             share of the six shared marts (dim_citizen, dim_household,
--                                           mart_population_by_group, fct_service_record,
--                                           mart_service_kpis, deliveries) this build published with rows
--   dung_chung  exports_current             share of those marts that describe the latest extract of
--                                           their sources (they are exported with this scorecard,
--                                           together or not at all): dim_citizen, dim_household and
--                                           the population mart at the latest citizens/households
--                                           snapshot, dossiers and KPIs up to the latest dossier
--                                           extract, deliveries listing every file of the ledger
-- Row metrics also come for source `all` (every source's latest extract together, ward only).
-- snapshot_date: the source's latest extract date (`all`: the latest citizens snapshot date).
with

rows_scored as (
    select * from {{ ref('int_quality__row_scores') }}
),

latest_extracts as (
    select
        source,
        max(extract_date) as snapshot_date
    from rows_scored
    group by source
),

citizens_snapshot as (
    select max(snapshot_date) as snapshot_date from {{ ref('int_persons') }}
),

-- the date the ward's data describes: its newest extract of any source
as_of as (
    select max(snapshot_date) as as_of_date from latest_extracts
),

-- every row counts in its group's figures, its source's ward figures and the `all` ward figures
row_scopes as (
    select
        source,
        residential_group_no,
        false as is_ward,
        has_issue,
        has_format_fault,
        required_filled,
        required_total
    from rows_scored
    union all
    select
        source,
        null as residential_group_no,
        true as is_ward,
        has_issue,
        has_format_fault,
        required_filled,
        required_total
    from rows_scored
    union all
    select
        'all' as source,
        null as residential_group_no,
        true as is_ward,
        has_issue,
        has_format_fault,
        required_filled,
        required_total
    from rows_scored
),

row_figures as (
    select
        source,
        residential_group_no,
        is_ward,
        count(*) filter (where not has_issue) as rows_passing,
        sum(required_filled) as required_filled,
        sum(required_total) as required_total,
        count(*) filter (where not has_format_fault) as rows_without_faults,
        count(*) as row_count
    from row_scopes
    group by source, residential_group_no, is_ward
),

row_metrics as (
    select
        source,
        'dung' as dimension,
        'rows_passing_rules' as metric,
        rows_passing / nullif(row_count, 0) as metric_value,
        residential_group_no,
        is_ward,
        row_count as denominator
    from row_figures
    union all
    select
        source,
        'du' as dimension,
        'required_fields_filled' as metric,
        required_filled / nullif(required_total, 0) as metric_value,
        residential_group_no,
        is_ward,
        required_total as denominator
    from row_figures
    union all
    select
        source,
        'sach' as dimension,
        'rows_without_format_faults' as metric,
        rows_without_faults / nullif(row_count, 0) as metric_value,
        residential_group_no,
        is_ward,
        row_count as denominator
    from row_figures
),

liveness as (
    select
        source,
        'song' as dimension,
        'days_since_latest_extract' as metric,
        cast(
            {{ days_between('snapshot_date', '(select as_of.as_of_date from as_of)') }} as double
        ) as metric_value,
        null as residential_group_no,
        true as is_ward,
        null as denominator
    from latest_extracts
    union all
    -- 1 when the latest extract is within the freshness threshold (the same thresholds as the
    -- Dagster freshness checks: ward.settings, written by the quality step), else 0
    select
        latest_extracts.source,
        'song' as dimension,
        'latest_extract_within_threshold' as metric,
        cast(
            {{ days_between('latest_extracts.snapshot_date', '(select as_of.as_of_date from as_of)') }}
            <= thresholds.max_days
            as double
        ) as metric_value,
        null as residential_group_no,
        true as is_ward,
        null as denominator
    from latest_extracts
    inner join {{ source('quality', 'freshness_thresholds') }} as thresholds
        on latest_extracts.source = thresholds.source
),

person_scopes as (
    select
        residential_group_no,
        false as is_ward,
        citizen_id
    from {{ ref('dim_citizen') }}
    union all
    select
        null as residential_group_no,
        true as is_ward,
        citizen_id
    from {{ ref('dim_citizen') }}
),

household_scopes as (
    select
        residential_group_no,
        false as is_ward,
        head_count
    from {{ ref('dim_household') }}
    union all
    select
        null as residential_group_no,
        true as is_ward,
        head_count
    from {{ ref('dim_household') }}
),

unified as (
    select
        'citizens' as source,
        'thong_nhat' as dimension,
        'citizens_with_valid_id' as metric,
        count(citizen_id) / nullif(count(*), 0) as metric_value,
        residential_group_no,
        is_ward,
        count(*) as denominator
    from person_scopes
    group by residential_group_no, is_ward
    union all
    select
        'households' as source,
        'thong_nhat' as dimension,
        'households_with_one_head' as metric,
        count(*) filter (where head_count = 1) / nullif(count(*), 0) as metric_value,
        residential_group_no,
        is_ward,
        count(*) as denominator
    from household_scopes
    group by residential_group_no, is_ward
),

latest_persons as (
    select persons.*
    from {{ ref('int_persons') }} as persons
    where persons.snapshot_date = (select citizens_snapshot.snapshot_date from citizens_snapshot)
),

latest_households as (
    select households.*
    from {{ ref('int_households') }} as households
    where households.snapshot_date = (
        select max(h.snapshot_date) from {{ ref('int_households') }} as h
    )
),

update_scopes as (
    select
        'citizens' as source,
        residential_group_no,
        snapshot_date,
        updated_at
    from latest_persons
    union all
    select
        'households' as source,
        residential_group_no,
        snapshot_date,
        updated_at
    from latest_households
    union all
    select
        'service_records' as source,
        null as residential_group_no,
        (
            select max(e.snapshot_date) from latest_extracts as e
            where e.source = 'service_records'
        ) as snapshot_date,
        updated_at
    from {{ ref('int_service_records__latest_versions') }}
),

recently_updated as (
    select
        source,
        'song' as dimension,
        'records_updated_last_12_months' as metric,
        count(*) filter (where updated_at >= snapshot_date - interval 12 month) / nullif(count(*), 0)
            as metric_value,
        residential_group_no,
        grouping(residential_group_no) = 1 as is_ward,
        count(*) as denominator
    from update_scopes
    group by source, rollup(residential_group_no)
),

matched as (
    select
        'citizens' as source,
        'thong_nhat' as dimension,
        'citizens_matched_to_households' as metric,
        count(latest_households.household_id) / nullif(count(*), 0) as metric_value,
        latest_persons.residential_group_no,
        grouping(latest_persons.residential_group_no) = 1 as is_ward,
        count(*) as denominator
    from latest_persons
    left join latest_households
        on
            latest_persons.household_id = latest_households.household_id
            and latest_persons.snapshot_date = latest_households.snapshot_date
    group by rollup(latest_persons.residential_group_no)
    union all
    select
        'service_records' as source,
        'thong_nhat' as dimension,
        'applicants_matched_to_persons' as metric,
        count(applicant_person_key) / nullif(count(*), 0) as metric_value,
        null as residential_group_no,
        true as is_ward,
        count(*) as denominator
    from {{ ref('fct_service_record') }}
),

latest_by_source as (
    select
        max(latest_extracts.snapshot_date) filter (where latest_extracts.source = 'citizens')
            as citizens_date,
        max(latest_extracts.snapshot_date) filter (where latest_extracts.source = 'households')
            as households_date,
        max(latest_extracts.snapshot_date) filter (where latest_extracts.source = 'service_records')
            as service_records_date
    from latest_extracts
),

-- each of the six shared marts describes the latest extract of its sources
exported as (
    select
        'all' as source,
        'dung_chung' as dimension,
        'exports_current' as metric,
        (
            coalesce(
                (select max(d.snapshot_date) from {{ ref('dim_citizen') }} as d) = latest.citizens_date,
                false
            )::integer
            + coalesce(
                (select max(p.snapshot_date) from {{ ref('mart_population_by_group') }} as p)
                = latest.citizens_date,
                false
            )::integer
            + coalesce(
                latest.households_date is not null
                and (select count(*) > 0 from {{ ref('dim_household') }}),
                false
            )::integer
            + coalesce(
                (select max(k.month) from {{ ref('mart_service_kpis') }} as k)
                = date_trunc('month', latest.service_records_date),
                false
            )::integer
            + coalesce(
                latest.service_records_date is not null
                and (select count(*) > 0 from {{ ref('fct_service_record') }}),
                false
            )::integer
            + coalesce(
                (select count(*) from {{ ref('deliveries') }})
                = (select count(*) from {{ ref('stg_landing__deliveries') }}),
                false
            )::integer
        ) / 6 as metric_value,
        null as residential_group_no,
        true as is_ward,
        6 as denominator
    from latest_by_source as latest
),

published as (
    select
        'all' as source,
        'dung_chung' as dimension,
        'marts_with_rows' as metric,
        (
            (select count(*) > 0 from {{ ref('dim_citizen') }})::integer
            + (select count(*) > 0 from {{ ref('dim_household') }})::integer
            + (select count(*) > 0 from {{ ref('mart_population_by_group') }})::integer
            + (select count(*) > 0 from {{ ref('fct_service_record') }})::integer
            + (select count(*) > 0 from {{ ref('mart_service_kpis') }})::integer
            + (select count(*) > 0 from {{ ref('deliveries') }})::integer
        ) / 6 as metric_value,
        null as residential_group_no,
        true as is_ward,
        6 as denominator
),

metrics as (
    select * from row_metrics
    union all
    select * from liveness
    union all
    select * from unified
    union all
    select * from published
    union all
    select * from recently_updated
    union all
    select * from matched
    union all
    select * from exported
)

select
    {{ ward_code() }} as ward_code,
    cast(metrics.source as {{ text_type() }}) as source,
    cast(metrics.dimension as {{ text_type() }}) as dimension,
    cast(metrics.metric as {{ text_type() }}) as metric,
    cast(metrics.metric_value as double) as value,
    cast(
        case
            when metrics.metric like 'days_%' then 'days'
            when metrics.metric like '%_count' or metrics.metric like 'count_%' then 'count'
            else 'share'
        end as {{ text_type() }}
    ) as unit,
    cast(metrics.residential_group_no as integer) as residential_group_no,
    cast(
        case
            when metrics.source = 'all'
                then coalesce(
                    (select citizens_snapshot.snapshot_date from citizens_snapshot),
                    (select max(latest_extracts.snapshot_date) from latest_extracts)
                )
            else coalesce(
                source_extracts.snapshot_date,
                (select citizens_snapshot.snapshot_date from citizens_snapshot)
            )
        end
        as date
    ) as snapshot_date,
    cast(metrics.denominator as bigint) as denominator
from metrics
left join latest_extracts as source_extracts
    on metrics.source = source_extracts.source
-- Rows whose group is unknown count in the ward rows only.
where metrics.is_ward or metrics.residential_group_no is not null
