-- CIT_DUPLICATE_PERSON: one citizens snapshot lists the same person in several rows (a row keyed
-- again by hand, linked by the identity step on its ID or on the evidence of name, birth date, sex,
-- household and phone). The person counts once (int_persons); every row but the one the person's
-- lineage comes from is a finding naming that row and how sure the match is, so the steward can
-- have the copy removed upstream.
with

identified as (
    select * from {{ ref('int_citizens__identified') }}
),

persons as (
    select * from {{ ref('int_persons') }}
    where source_row_count > 1
)

select
    'citizens' as source,
    copies.source_file,
    copies.row_number,
    copies.file_sha256,
    'CIT_DUPLICATE_PERSON' as rule,
    '*' as column_name,
    copies.loaded_at as first_seen_at,
    copies.residential_group_no,
    persons.source_file || ':' || persons.row_number
    || ' (' || cast(round(copies.match_confidence, 4) as {{ text_type() }}) || ')' as value,
    'Dòng này là cùng một công dân với dòng ' || persons.source_file || ':' || persons.row_number
    || ' của cùng bản trích xuất (độ tin cậy ' || cast(round(copies.match_confidence, 4) as {{ text_type() }})
    || '): công dân chỉ được tính một lần. Đề nghị xoá dòng trùng ở hệ thống nguồn.' as reason_vi,
    'This row is the same person as row ' || persons.source_file || ':' || persons.row_number
    || ' of the same extract (confidence ' || cast(round(copies.match_confidence, 4) as {{ text_type() }})
    || '): the person counts once. Have the duplicate removed in the source system.' as reason_en
from identified as copies
inner join persons
    on
        copies.extract_date = persons.snapshot_date
        and copies.person_key = persons.person_key
where not (copies.file_sha256 = persons.file_sha256 and copies.row_number = persons.row_number)
