-- Each kept citizens row with the identity of the person it describes, and that person's key.
--
-- Identity, for now: the valid 12-digit citizen_id; else the 9-digit legacy_id (CMND); else the row
-- itself, as a hash of its cleaned name, date of birth, sex and household. Two different valid IDs
-- are never one person. The three kinds cannot collide: 12 digits, 9 digits, 32 hex characters.
-- person_key = the first 16 hex characters of md5('person|' || identity): the same identity gives
-- the same key in every snapshot and every rebuild.
with

kept as (
    select * from {{ ref('int_citizens__kept_rows') }}
),

identified as (
    select
        *,
        case
            when citizen_id_status = 'valid' then 'citizen_id'
            when legacy_id is not null then 'legacy_id'
            else 'row'
        end as identity_kind,
        case
            when citizen_id_status = 'valid' then citizen_id
            when legacy_id is not null then legacy_id
            else md5(concat_ws(
                '|',
                coalesce(full_name, ''),
                coalesce(cast(date_of_birth as varchar), ''),
                coalesce(sex, ''),
                coalesce(household_id, '')
            ))
        end as person_identity
    from kept
)

select
    *,
    substr(md5('person|' || person_identity), 1, 16) as person_key
from identified
