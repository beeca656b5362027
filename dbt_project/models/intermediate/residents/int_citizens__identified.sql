-- Each kept citizens row with the person it describes, as resolved by the identity step
-- (ward.identity: same valid 12-digit ID = same person; a CMND links to the ID carried with it;
-- rows without a usable ID link probabilistically with splink, never joining two different IDs).
-- identity_kind says how the row was matched; match_confidence how sure the match is.
with

kept as (
    select * from {{ ref('int_citizens__kept_rows') }}
),

resolved as (
    select * from {{ source('identity', 'row_persons') }}
)

select
    kept.*,
    resolved.match_method as identity_kind,
    resolved.person_key,
    resolved.match_confidence
from kept
inner join resolved
    on
        kept.file_sha256 = resolved.file_sha256
        and kept.row_number = resolved.row_number
