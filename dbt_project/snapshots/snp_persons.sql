{#-
    SCD type 2 history of persons: one version per person per change of what the citizens extracts
    say about them, valid from the extract date that first said it (history_as_of(), see
    macros/history/history_as_of.sql). A person no longer listed gets a closing record
    (dbt_is_deleted 'True') valid from the first extract that no longer lists them.
    Lineage, updated_at and match figures are left out: a re-delivered or relinked row is not a change.
    The IDs are kept but not checked: who the person is is person_key, and an ID lost to dirt in one
    extract (Excel, a typo) is not a change of the person.
-#}
{% snapshot snp_persons %}

    {{ config(
        schema='history',
        unique_key='person_key',
        strategy='check',
        check_cols=[
            'full_name', 'date_of_birth', 'date_of_birth_precision', 'sex', 'ethnicity', 'religion',
            'nationality', 'residence_type', 'household_id', 'relation_to_head', 'residential_group_no',
            'phone', 'marital_status', 'date_of_death',
        ],
        hard_deletes='new_record',
    ) }}

    select
        person_key,
        citizen_id,
        legacy_id,
        full_name,
        date_of_birth,
        date_of_birth_precision,
        sex,
        ethnicity,
        religion,
        nationality,
        residence_type,
        household_id,
        relation_to_head,
        residential_group_no,
        phone,
        marital_status,
        date_of_death
    from {{ ref('int_persons') }}
    where snapshot_date = cast('{{ history_as_of() }}' as date)

{% endsnapshot %}
