-- Household rules that need both sources, reported to the steward as findings and never fixed
-- silently (the row rules of one row at a time live in expectations/rules.yml; these compare a
-- household row of the latest households snapshot with the residents of the latest citizens
-- snapshot that point to it):
--   HH_NO_HEAD                no resident member has the relation Chủ hộ
--   HH_SEVERAL_HEADS          more than one resident member has the relation Chủ hộ
--   HH_MEMBER_COUNT_MISMATCH  the upstream member_count differs from the residents counted
--   HH_HEAD_NOT_MEMBER        the head the household list names is not a resident member of it
--   CIT_HOUSEHOLD_UNKNOWN     (a citizens row) the resident's household is not in the households
--                             snapshot of the same date
with

households as (
    select * from {{ ref('int_households') }}
    where snapshot_date = (select max(h.snapshot_date) from {{ ref('int_households') }} as h)
),

residents as (
    select
        snapshot_persons.*,
        -- the person's ID even when this snapshot's row lost it (identity linked it to the ID)
        coalesce(snapshot_persons.citizen_id, clusters.citizen_id) as known_citizen_id
    from {{ ref('int_persons') }} as snapshot_persons
    left join {{ source('identity', 'persons') }} as clusters
        on snapshot_persons.person_key = clusters.person_key
    where
        snapshot_persons.snapshot_date = (select max(p.snapshot_date) from {{ ref('int_persons') }} as p)
        and snapshot_persons.residence_type in ('thuong_tru', 'tam_tru')
        and (
            snapshot_persons.date_of_death is null
            or snapshot_persons.date_of_death > snapshot_persons.snapshot_date
        )
),

counted as (
    select
        households.*,
        count(residents.person_key) as members,
        count(residents.person_key) filter (where residents.relation_to_head = 'Chủ hộ') as heads,
        count(residents.person_key) filter (
            where residents.known_citizen_id = households.head_citizen_id
        ) as named_head_is_member
    from households
    left join residents
        on households.household_id = residents.household_id
    group by all
),

findings as (
    select
        *,
        'HH_NO_HEAD' as rule,
        'relation_to_head' as column_name,
        cast(heads as varchar) as value,
        'Hộ ' || household_id || ' không có thành viên nào là Chủ hộ: kiểm tra quan hệ với chủ hộ.'
            as reason_vi,
        'Household ' || household_id || ' has no resident member whose relation is Chủ hộ (head).'
            as reason_en
    from counted
    where heads = 0
    union all
    select
        *,
        'HH_SEVERAL_HEADS' as rule,
        'relation_to_head' as column_name,
        cast(heads as varchar) as value,
        'Hộ ' || household_id || ' có ' || heads || ' thành viên là Chủ hộ: một hộ chỉ có một chủ hộ.'
            as reason_vi,
        'Household ' || household_id || ' has ' || heads || ' members whose relation is Chủ hộ (head).'
            as reason_en
    from counted
    where heads > 1
    union all
    select
        *,
        'HH_MEMBER_COUNT_MISMATCH' as rule,
        'member_count' as column_name,
        cast(member_count as varchar) as value,
        'Số thành viên ghi ' || member_count || ' nhưng có ' || members || ' cư dân thuộc hộ '
        || household_id || '.' as reason_vi,
        'Member count says ' || member_count || ' but ' || members || ' residents point to household '
        || household_id || '.' as reason_en
    from counted
    where member_count is not null and member_count <> members
    union all
    select
        *,
        'HH_HEAD_NOT_MEMBER' as rule,
        'head_citizen_id' as column_name,
        head_citizen_id as value,
        'Chủ hộ ' || head_citizen_id || ' của hộ ' || household_id
        || ' không có trong danh sách cư dân của hộ.' as reason_vi,
        'The head ' || head_citizen_id || ' named for household ' || household_id
        || ' is not a resident member of it.' as reason_en
    from counted
    where head_citizen_id is not null and named_head_is_member = 0
),

households_by_date as (
    select distinct
        snapshot_date,
        household_id
    from {{ ref('int_households') }}
),

unknown_households as (
    select
        'citizens' as source,
        residents.source_file,
        residents.row_number,
        residents.file_sha256,
        'CIT_HOUSEHOLD_UNKNOWN' as rule,
        'household_id' as column_name,
        residents.household_id as value,
        'Mã hộ ' || residents.household_id
        || ' không có trong danh sách hộ gia đình cùng ngày trích xuất.' as reason_vi,
        'Household id ' || residents.household_id
        || ' is not in the households list of the same extract date.' as reason_en,
        residents.loaded_at as first_seen_at,
        residents.residential_group_no
    from residents
    where
        residents.snapshot_date in (select h.snapshot_date from households_by_date as h)
        and not exists (
            select 1 from households_by_date as h
            where h.snapshot_date = residents.snapshot_date and h.household_id = residents.household_id
        )
)

select
    'households' as source,
    source_file,
    row_number,
    file_sha256,
    rule,
    column_name,
    value,
    reason_vi,
    reason_en,
    loaded_at as first_seen_at,
    residential_group_no
from findings
union all
select * from unknown_households
