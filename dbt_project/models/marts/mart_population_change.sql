-- One row per residential group per month, and one row for the whole ward (residential_group_no
-- null): the residence events of fct_residence_event counted by the month of event_date. Months run
-- from the first citizens snapshot's month to the latest's (stretched back when an event is dated
-- before, e.g. a death registered late; never past the latest snapshot: fct_residence_event dates
-- no event after its snapshot), every month listed, zero rows included, so charts need no gaps
-- filled. The groups are those any citizens snapshot names; an event whose group is
-- unknown counts in the ward row only.
with

events as (
    select
        event_type,
        residential_group_no,
        cast(date_trunc('month', event_date) as date) as month
    from {{ ref('fct_residence_event') }}
),

persons as (
    select
        snapshot_date,
        residential_group_no
    from {{ ref('int_persons') }}
),

bounds as (
    select
        least(
            (select cast(date_trunc('month', min(persons.snapshot_date)) as date) from persons),
            (select min(events.month) from events)
        ) as first_month,
        (select cast(date_trunc('month', max(persons.snapshot_date)) as date) from persons)
            as last_month
),

months as (
    select cast(month_series.month_start as date) as month
    from {{ month_series(
        'bounds', 'bounds.first_month', 'bounds.last_month', 'month_series', 'month_start'
    ) }}
),

scopes as (
    select distinct
        residential_group_no,
        false as is_ward
    from persons
    where residential_group_no is not null
    union all
    select
        null as residential_group_no,
        true as is_ward
),

-- every event counts in its group's row and in the ward's row
event_scopes as (
    select
        {{ star_replaced('residential_group_no') }},
        false as is_ward
    from events
    where residential_group_no is not null
    union all
    select
        {{ star_replaced('residential_group_no', 'cast(null as integer)') }},
        true as is_ward
    from events
),

counts as (
    select
        month,
        residential_group_no,
        is_ward,
        count(*) filter (where event_type = 'birth') as births,
        count(*) filter (where event_type = 'death') as deaths,
        count(*) filter (where event_type = 'move_in') as moves_in,
        count(*) filter (where event_type = 'move_out') as moves_out,
        count(*) filter (where event_type = 'household_change') as household_changes,
        count(*) filter (where event_type = 'residence_type_change') as residence_type_changes
    from event_scopes
    group by month, residential_group_no, is_ward
),

grid as (
    select
        months.month,
        scopes.residential_group_no,
        scopes.is_ward,
        coalesce(counts.births, 0) as births,
        coalesce(counts.deaths, 0) as deaths,
        coalesce(counts.moves_in, 0) as moves_in,
        coalesce(counts.moves_out, 0) as moves_out,
        coalesce(counts.household_changes, 0) as household_changes,
        coalesce(counts.residence_type_changes, 0) as residence_type_changes
    from months
    cross join scopes
    left join counts
        on
            months.month = counts.month
            and scopes.is_ward = counts.is_ward
            and scopes.residential_group_no is not distinct from counts.residential_group_no
)

select
    {{ ward_code() }} as ward_code,
    cast(month as date) as month,
    cast(residential_group_no as integer) as residential_group_no,
    cast(births as bigint) as births,
    cast(deaths as bigint) as deaths,
    cast(moves_in as bigint) as moves_in,
    cast(moves_out as bigint) as moves_out,
    cast(household_changes as bigint) as household_changes,
    cast(residence_type_changes as bigint) as residence_type_changes,
    cast(births + moves_in - deaths - moves_out as bigint) as net_change
from grid
