-- One row per residential group per citizens snapshot date, and one row for the whole ward
-- (residential_group_no null). Residents: persons of the snapshot with residence type Thường trú or
-- Tạm trú, alive on the snapshot date; Tạm vắng people alive on it are counted apart, as absent.
-- male, female, temporary_residents and the age bands count residents. Age in whole years on the
-- snapshot date (a partial birth date counts from the first day of its period). households: of the
-- households snapshot with the same extract date, null when there is none.
-- A group has a row when a person of the snapshot or a household of the same date names it.
with

persons as (
    select
        snapshot_date,
        residential_group_no,
        sex,
        residence_type,
        {{ age_in_years('date_of_birth', 'snapshot_date') }} as age,
        date_of_death is null or date_of_death > snapshot_date as alive
    from {{ ref('int_persons') }}
),

counted as (
    select
        *,
        alive and residence_type in ('thuong_tru', 'tam_tru') as resident,
        alive and residence_type = 'tam_vang' as absent
    from persons
),

-- every person counts in its group's row and in the ward's row
person_scopes as (
    select
        {{ star_replaced('residential_group_no') }},
        false as is_ward
    from counted
    union all
    select
        {{ star_replaced('residential_group_no', 'cast(null as integer)') }},
        true as is_ward
    from counted
),

person_figures as (
    select
        snapshot_date,
        residential_group_no,
        is_ward,
        count(*) filter (where resident) as residents,
        count(*) filter (where resident and sex = 'M') as male,
        count(*) filter (where resident and sex = 'F') as female,
        count(*) filter (where resident and residence_type = 'tam_tru') as temporary_residents,
        count(*) filter (where absent) as absent,
        count(*) filter (where resident and age between 0 and 5) as age_0_5,
        count(*) filter (where resident and age between 6 and 14) as age_6_14,
        count(*) filter (where resident and age between 15 and 59) as age_15_59,
        count(*) filter (where resident and age >= 60) as age_60_plus
    from person_scopes
    group by snapshot_date, residential_group_no, is_ward
),

households as (
    select
        snapshot_date,
        residential_group_no
    from {{ ref('int_households') }}
    where snapshot_date in (select person_figures.snapshot_date from person_figures)
),

household_snapshots as (
    select distinct snapshot_date from {{ ref('int_households') }}
),

household_figures as (
    select
        snapshot_date,
        residential_group_no,
        false as is_ward,
        count(*) as households
    from households
    group by snapshot_date, residential_group_no
    union all
    select
        snapshot_date,
        null as residential_group_no,
        true as is_ward,
        count(*) as households
    from households
    group by snapshot_date
),

figures as (
    select
        coalesce(p.snapshot_date, h.snapshot_date) as snapshot_date,
        coalesce(p.residential_group_no, h.residential_group_no) as residential_group_no,
        coalesce(p.is_ward, h.is_ward) as is_ward,
        coalesce(p.residents, 0) as residents,
        case
            when coalesce(p.snapshot_date, h.snapshot_date) in (
                select household_snapshots.snapshot_date from household_snapshots
            ) then coalesce(h.households, 0)
        end as households,
        coalesce(p.male, 0) as male,
        coalesce(p.female, 0) as female,
        coalesce(p.temporary_residents, 0) as temporary_residents,
        coalesce(p.absent, 0) as absent,
        coalesce(p.age_0_5, 0) as age_0_5,
        coalesce(p.age_6_14, 0) as age_6_14,
        coalesce(p.age_15_59, 0) as age_15_59,
        coalesce(p.age_60_plus, 0) as age_60_plus
    from person_figures as p
    full outer join household_figures as h
        on
            p.snapshot_date = h.snapshot_date
            and p.is_ward = h.is_ward
            and p.residential_group_no is not distinct from h.residential_group_no
)

select
    {{ ward_code() }} as ward_code,
    cast(snapshot_date as date) as snapshot_date,
    cast(residential_group_no as integer) as residential_group_no,
    cast(residents as bigint) as residents,
    cast(households as bigint) as households,
    cast(male as bigint) as male,
    cast(female as bigint) as female,
    cast(temporary_residents as bigint) as temporary_residents,
    cast(absent as bigint) as absent,
    cast(age_0_5 as bigint) as age_0_5,
    cast(age_6_14 as bigint) as age_6_14,
    cast(age_15_59 as bigint) as age_15_59,
    cast(age_60_plus as bigint) as age_60_plus
from figures
-- Persons or households whose group is unknown count in the ward row only.
where is_ward or residential_group_no is not null
