-- Each person's state in a citizens snapshot beside their state in the snapshot before it: one row
-- per (snapshot, person listed in it or in the previous one), for every snapshot but the first (the
-- baseline). Built from int_persons, which every run recomputes from all landing files, so the
-- events derived from it do not depend on how or when the extracts arrived. A date of death after
-- the snapshot date is impossible (the person is alive on it; CIT_DEATH_AFTER_EXTRACT): no death yet.
with

persons as (
    select
        snapshot_date,
        person_key,
        date_of_birth,
        date_of_birth_precision,
        residence_type,
        household_id,
        residential_group_no,
        case when date_of_death <= snapshot_date then date_of_death end as date_of_death
    from {{ ref('int_persons') }}
),

snapshots as (
    select
        snapshot_date,
        lag(snapshot_date) over (order by snapshot_date) as previous_snapshot_date
    from (select distinct persons.snapshot_date from persons) as dates
),

pairs as (
    select * from snapshots
    where previous_snapshot_date is not null
),

listed_now as (
    select
        persons.*,
        pairs.previous_snapshot_date
    from pairs
    inner join persons on pairs.snapshot_date = persons.snapshot_date
),

listed_before as (
    select
        persons.*,
        pairs.snapshot_date as later_snapshot_date
    from pairs
    inner join persons on pairs.previous_snapshot_date = persons.snapshot_date
)

select
    listed_now.date_of_death,
    listed_before.date_of_death as previous_date_of_death,
    listed_now.residence_type,
    listed_before.residence_type as previous_residence_type,
    listed_now.household_id,
    listed_before.household_id as previous_household_id,
    listed_now.residential_group_no,
    listed_before.residential_group_no as previous_residential_group_no,
    coalesce(listed_now.snapshot_date, listed_before.later_snapshot_date) as snapshot_date,
    coalesce(listed_now.previous_snapshot_date, listed_before.snapshot_date) as previous_snapshot_date,
    coalesce(listed_now.person_key, listed_before.person_key) as person_key,
    listed_now.person_key is not null as is_listed,
    listed_before.person_key is not null as was_listed,
    coalesce(listed_now.date_of_birth, listed_before.date_of_birth) as date_of_birth,
    coalesce(listed_now.date_of_birth_precision, listed_before.date_of_birth_precision)
        as date_of_birth_precision
from listed_now
full outer join listed_before
    on
        listed_now.snapshot_date = listed_before.later_snapshot_date
        and listed_now.person_key = listed_before.person_key
