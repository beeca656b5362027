-- One row per person listed in the latest citizens snapshot; the dead stay listed (is_alive false).
-- is_alive and is_resident are as of the snapshot date.
with

persons as (
    select * from {{ ref('int_persons') }}
    where snapshot_date = (select max(all_persons.snapshot_date) from {{ ref('int_persons') }} as all_persons)
),

status as (
    select
        *,
        date_of_death is null or date_of_death > snapshot_date as alive
    from persons
)

select
    {{ ward_code() }} as ward_code,
    cast(person_key as {{ text_type() }}) as person_key,
    cast(citizen_id as {{ text_type() }}) as citizen_id,
    cast(full_name as {{ text_type() }}) as full_name,
    cast(date_of_birth as date) as date_of_birth,
    cast(birth_year as integer) as birth_year,
    cast(sex as {{ text_type() }}) as sex,
    cast(ethnicity as {{ text_type() }}) as ethnicity,
    cast(residence_type as {{ text_type() }}) as residence_type,
    cast(household_id as {{ text_type() }}) as household_id,
    cast(relation_to_head as {{ text_type() }}) as relation_to_head,
    cast(residential_group_no as integer) as residential_group_no,
    cast(phone as {{ text_type() }}) as phone,
    cast(alive as boolean) as is_alive,
    cast(alive and residence_type in ('thuong_tru', 'tam_tru') as boolean) as is_resident,
    cast(match_confidence as double) as match_confidence,
    cast(source_row_count as integer) as source_row_count,
    cast(snapshot_date as date) as snapshot_date,
    cast(date_of_birth_precision as {{ text_type() }}) as date_of_birth_precision,
    cast(identity_kind as {{ text_type() }}) as identity_kind
from status
