-- One row per household of the latest households snapshot. Its members are the residents (latest
-- citizens snapshot) whose household_id points to it. Its head is the resident member with the
-- relation Chủ hộ (the one whose personal ID the household list names, when several claim it); when
-- no member has that relation, the resident whose ID the household list names as head.
-- head_count says how many resident members have the relation Chủ hộ: exactly 1 is expected, and
-- dirty extracts break it (a data test warns).
with

households as (
    select * from {{ ref('int_households') }}
    where
        snapshot_date
        = (select max(all_households.snapshot_date) from {{ ref('int_households') }} as all_households)
),

residents as (
    select * from {{ ref('dim_citizen') }}
    where is_resident
),

members as (
    select
        household_id,
        count(*) as members,
        count(*) filter (where relation_to_head = 'Chủ hộ') as head_count
    from residents
    group by household_id
),

head_candidates as (
    select
        households.household_id,
        residents.person_key,
        row_number() over (
            partition by households.household_id
            order by
                residents.relation_to_head = 'Chủ hộ'
                and residents.citizen_id is not distinct from households.head_citizen_id desc,
                residents.relation_to_head = 'Chủ hộ' desc,
                residents.person_key
        ) as pick
    from households
    inner join residents
        on
            households.household_id = residents.household_id
            and (
                residents.relation_to_head = 'Chủ hộ'
                or households.head_citizen_id = residents.citizen_id
            )
)

select
    {{ ward_code() }} as ward_code,
    cast(households.household_id as {{ text_type() }}) as household_id,
    cast(households.residential_group_no as integer) as residential_group_no,
    cast(head_candidates.person_key as {{ text_type() }}) as head_person_key,
    cast(coalesce(members.members, 0) as bigint) as members,
    cast(households.household_type as {{ text_type() }}) as household_type,
    cast(households.member_count as integer) as member_count_reported,
    cast(households.snapshot_date as date) as snapshot_date,
    cast(coalesce(members.head_count, 0) as bigint) as head_count
from households
left join members
    on households.household_id = members.household_id
left join head_candidates
    on
        households.household_id = head_candidates.household_id
        and head_candidates.pick = 1
