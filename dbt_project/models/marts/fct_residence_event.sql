-- One row per residence event between consecutive citizens snapshots (int_persons__compared): what
-- changed for a person from one extract to the next. The first snapshot is the baseline: no events.
-- A person may have several events in one pair of snapshots (moving to a Tạm trú household is a
-- household_change and a residence_type_change). Only births and deaths carry their own date; the
-- other events are only known to have happened by the later extract, so they take its date with
-- is_event_date_exact false.
with

compared as (
    select * from {{ ref('int_persons__compared') }}
),

events as (
    -- appears, born after the previous extract and on or before this one (a birth date after the
    -- extract date, CIT_BIRTH_IN_FUTURE, is unusable for events: no birth is dated in the future)
    select
        *,
        'birth' as event_type,
        date_of_birth as event_date,
        date_of_birth_precision = 'day' as is_event_date_exact,
        residential_group_no as event_group_no
    from compared
    where
        is_listed and not was_listed
        and date_of_birth > previous_snapshot_date and date_of_birth <= snapshot_date
    union all
    -- appears, born before (or with no usable birth date)
    select
        *,
        'move_in' as event_type,
        snapshot_date as event_date,
        false as is_event_date_exact,
        residential_group_no as event_group_no
    from compared
    where
        is_listed and not was_listed
        and (
            date_of_birth <= previous_snapshot_date or date_of_birth > snapshot_date
            or date_of_birth is null
        )
    union all
    -- listed before, not now: counts in the group the person left
    select
        *,
        'move_out' as event_type,
        snapshot_date as event_date,
        false as is_event_date_exact,
        previous_residential_group_no as event_group_no
    from compared
    where was_listed and not is_listed
    union all
    select
        *,
        'death' as event_type,
        date_of_death as event_date,
        true as is_event_date_exact,
        residential_group_no as event_group_no
    from compared
    where is_listed and was_listed and date_of_death is not null and previous_date_of_death is null
    union all
    select
        *,
        'household_change' as event_type,
        snapshot_date as event_date,
        false as is_event_date_exact,
        residential_group_no as event_group_no
    from compared
    where is_listed and was_listed and household_id is distinct from previous_household_id
    union all
    select
        *,
        'residence_type_change' as event_type,
        snapshot_date as event_date,
        false as is_event_date_exact,
        residential_group_no as event_group_no
    from compared
    where is_listed and was_listed and residence_type is distinct from previous_residence_type
)

select
    {{ ward_code() }} as ward_code,
    cast(
        left(md5('event|' || person_key || '|' || event_type || '|' || snapshot_date), 16)
        as {{ text_type() }}
    ) as event_id,
    cast(person_key as {{ text_type() }}) as person_key,
    cast(event_type as {{ text_type() }}) as event_type,
    cast(event_date as date) as event_date,
    cast(is_event_date_exact as boolean) as is_event_date_exact,
    cast(snapshot_date as date) as snapshot_date,
    cast(previous_snapshot_date as date) as previous_snapshot_date,
    cast(event_group_no as integer) as residential_group_no,
    cast(household_id as {{ text_type() }}) as household_id,
    cast(previous_household_id as {{ text_type() }}) as previous_household_id,
    cast(residence_type as {{ text_type() }}) as residence_type,
    cast(previous_residence_type as {{ text_type() }}) as previous_residence_type
from events
