-- Household rules that need both sources, reported to the steward as findings and never fixed
-- silently (the row rules of one row at a time live in expectations/rules.yml). Made for EVERY
-- households snapshot, against the citizens snapshot of the same extract date (a households
-- snapshot without one cannot be compared and gets none):
--   HH_NO_HEAD                (household row) no resident member has the relation Chủ hộ
--   HH_SEVERAL_HEADS          (household row) more than one resident member has the relation Chủ hộ
--   HH_MEMBER_COUNT_MISMATCH  (household row) member_count differs from the persons the citizens
--                             snapshot lists under the household, whatever their residence type
--                             (Tạm vắng included; extract-spec "What the words mean")
--   HH_HEAD_NOT_MEMBER        (household row) the head the list names is not a resident member
--   CIT_SECOND_HEAD           (citizens row) a resident who claims Chủ hộ in a household that has
--                             more than one: every claimer but the head the households list names
--                             (by ID; by name where the list's head ID was lost)
--   CIT_HOUSEHOLD_UNKNOWN     (citizens row) the row's household_id is not in the households
--                             snapshot of the same date
-- Persons, not rows, are counted (one person listed twice is one member, int_persons).
with

-- the snapshot dates both sides have (a set operation: a join on the date alone would pair every
-- household with every person of that date, 10^11 rows at a million residents)
compared_dates as (
    select households.snapshot_date from {{ ref('int_households') }} as households
    intersect
    select persons.snapshot_date from {{ ref('int_persons') }} as persons
),

households as (
    select * from {{ ref('int_households') }}
    where snapshot_date in (select compared_dates.snapshot_date from compared_dates)
),

listed as (
    select
        snapshot_persons.*,
        -- the person's ID even when this snapshot's row lost it (identity linked it to the ID)
        coalesce(snapshot_persons.citizen_id, clusters.citizen_id) as known_citizen_id,
        snapshot_persons.residence_type in ('thuong_tru', 'tam_tru')
        and (
            snapshot_persons.date_of_death is null
            or snapshot_persons.date_of_death > snapshot_persons.snapshot_date
        ) as is_resident
    from {{ ref('int_persons') }} as snapshot_persons
    left join {{ source('identity', 'persons') }} as clusters
        on snapshot_persons.person_key = clusters.person_key
    where snapshot_persons.snapshot_date in (select compared_dates.snapshot_date from compared_dates)
),

counted as (
    select
        households.*,
        count(listed.person_key) as persons_listed,
        count(listed.person_key) filter (where listed.is_resident) as members,
        count(listed.person_key) filter (
            where listed.is_resident and listed.relation_to_head = 'Chủ hộ'
        ) as heads,
        -- the named head by ID; by name where the person's own ID was never usable (3.1E+10)
        count(listed.person_key) filter (
            where
            listed.is_resident
            and coalesce(
                listed.known_citizen_id = households.head_citizen_id,
                {{ fold_text('listed.full_name') }} = {{ fold_text('households.head_name') }},
                false
            )
        ) as named_head_is_member
    from households
    left join listed
        on
            households.snapshot_date = listed.snapshot_date
            and households.household_id = listed.household_id
    group by all
),

household_findings as (
    select
        *,
        'HH_NO_HEAD' as rule,
        'relation_to_head' as column_name,
        cast(heads as {{ text_type() }}) as value,
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
        cast(heads as {{ text_type() }}) as value,
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
        cast(member_count as {{ text_type() }}) as value,
        'Số thành viên ghi ' || member_count || ' nhưng danh sách công dân cùng ngày có '
        || persons_listed || ' người thuộc hộ ' || household_id || ' (kể cả tạm vắng).' as reason_vi,
        'Member count says ' || member_count || ' but the citizens list of the same date has '
        || persons_listed || ' persons in household ' || household_id || ' (absent ones included).'
            as reason_en
    from counted
    where member_count is not null and member_count <> persons_listed
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

second_heads as (
    select
        'citizens' as source,
        listed.source_file,
        listed.row_number,
        listed.file_sha256,
        'CIT_SECOND_HEAD' as rule,
        'relation_to_head' as column_name,
        listed.relation_to_head as value,
        'Hộ ' || listed.household_id || ' đã có chủ hộ khác (' || counted.heads
        || ' người ghi là Chủ hộ): kiểm tra quan hệ với chủ hộ của dòng này.' as reason_vi,
        'Household ' || listed.household_id || ' already has another head (' || counted.heads
        || ' persons listed as Chủ hộ): check this row''s relation to the head.' as reason_en,
        listed.loaded_at as first_seen_at,
        listed.residential_group_no
    from listed
    inner join counted
        on
            listed.snapshot_date = counted.snapshot_date
            and listed.household_id = counted.household_id
    where
        counted.heads > 1
        and listed.is_resident
        and listed.relation_to_head = 'Chủ hộ'
        -- the head the households list names: by ID, or by name where the list's head ID was lost
        and not coalesce(
            listed.known_citizen_id = counted.head_citizen_id,
            {{ fold_text('listed.full_name') }} = {{ fold_text('counted.head_name') }},
            false
        )
),

unknown_households as (
    select
        'citizens' as source,
        rows_listed.source_file,
        rows_listed.row_number,
        rows_listed.file_sha256,
        'CIT_HOUSEHOLD_UNKNOWN' as rule,
        'household_id' as column_name,
        rows_listed.household_id as value,
        'Mã hộ ' || rows_listed.household_id
        || ' không có trong danh sách hộ gia đình cùng ngày trích xuất.' as reason_vi,
        'Household id ' || rows_listed.household_id
        || ' is not in the households list of the same extract date.' as reason_en,
        rows_listed.loaded_at as first_seen_at,
        rows_listed.residential_group_no
    from {{ ref('int_citizens__identified') }} as rows_listed
    where
        rows_listed.extract_date in (select compared_dates.snapshot_date from compared_dates)
        and not exists (
            select 1 from households
            where
                households.snapshot_date = rows_listed.extract_date
                and households.household_id = rows_listed.household_id
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
from household_findings
union all
select * from second_heads
union all
select * from unknown_households
