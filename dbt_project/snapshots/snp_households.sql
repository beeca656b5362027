{#-
    SCD type 2 history of households, as of the same citizens extract dates as snp_persons: the
    state of a household on such a date is its row in the latest households snapshot on or before
    it (households and citizens lists need not arrive on the same day). A household no longer listed
    gets a closing record (dbt_is_deleted 'True'). The head's ID is kept but not checked (an ID lost to
    dirt is not a change of head; a new head shows in snp_persons' relation_to_head).
-#}
{% snapshot snp_households %}

    {{ config(
        schema='history',
        unique_key='household_id',
        strategy='check',
        check_cols=['head_name', 'address', 'residential_group_no', 'member_count', 'household_type'],
        hard_deletes='new_record',
    ) }}

    with

    households as (
        select * from {{ ref('int_households') }}
    )

    select
        household_id,
        head_citizen_id,
        head_name,
        address,
        residential_group_no,
        member_count,
        household_type
    from households
    where
        snapshot_date = (
            select max(listed.snapshot_date) from households as listed
            where listed.snapshot_date <= cast('{{ history_as_of() }}' as date)
        )

{% endsnapshot %}
