-- Household rules that need both sources, reported to the steward as findings and never fixed
-- silently (the row rules of one row at a time live in expectations/rules.yml; these compare a
-- household row of the latest households snapshot with the residents of the latest citizens
-- snapshot that point to it):
--   HH_NO_HEAD                no resident member has the relation Chủ hộ
--   HH_SEVERAL_HEADS          more than one resident member has the relation Chủ hộ
--   HH_MEMBER_COUNT_MISMATCH  the upstream member_count differs from the residents counted
with

households as (
    select * from {{ ref('int_households') }}
    where snapshot_date = (select max(h.snapshot_date) from {{ ref('int_households') }} as h)
),

residents as (
    select *
    from {{ ref('int_persons') }}
    where
        snapshot_date = (select max(p.snapshot_date) from {{ ref('int_persons') }} as p)
        and residence_type in ('thuong_tru', 'tam_tru')
        and (date_of_death is null or date_of_death > snapshot_date)
),

counted as (
    select
        households.*,
        count(residents.person_key) as members,
        count(residents.person_key) filter (where residents.relation_to_head = 'Chủ hộ') as heads
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
