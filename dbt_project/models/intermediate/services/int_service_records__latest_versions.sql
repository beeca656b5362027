-- Each dossier's latest version: a dossier appears again in a later extract whenever its status
-- changes, and the latest updated_at wins; ties go to the latest extract date, then the highest
-- row_number (then the file path, so the pick never depends on the engine's order).
-- Incremental: the pick is made again only for the dossiers it may have changed: one with a version
-- staged since the last build (a restaged row is staged again too), or with another number of kept
-- versions (one is no longer kept, or kept now without being staged again: rules changed). Only
-- dossiers whose pick changed are rewritten (delete+insert by record_id); the pre-hook drops
-- dossiers with no kept version left.
{#- dbt-spark has no delete+insert (parquet tables): on Spark the pick is made whole, a table. -#}
{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    incremental_strategy='delete+insert',
    unique_key='record_id',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}
        delete from {{ this }} where record_id not in
            (select kept.record_id from {{ ref('int_service_records__kept_rows') }} as kept
             where kept.record_id is not null)
        {% endif %}"
) }}
with

kept as (
    select * from {{ ref('int_service_records__kept_rows') }}
),

{%- if is_incremental() %}

candidates as (
    select record_id from kept
    where staged_at > (
        select coalesce(max(current_pick.staged_at), timestamp '0001-01-01') from {{ this }} as current_pick
    )
    union
    select counted.record_id
    from (select record_id, count(*) as versions from kept group by record_id) as counted
    left join {{ this }} as current_pick
        on counted.record_id = current_pick.record_id
    where counted.versions is distinct from current_pick.versions
),

{%- endif %}

versions as (
    select * from kept
    {%- if is_incremental() %}
        where record_id in (select candidates.record_id from candidates)
    {%- endif %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by record_id
            order by
                updated_at desc nulls last,
                extract_date desc,
                row_number desc,
                source_file desc
        ) as pick,
        count(*) over (partition by record_id) as versions
    from versions
),

latest as (
    select {{ star_exclude(["pick"]) }}
    from ranked
    where pick = 1
)

select latest.*
from latest
{%- if is_incremental() %}
    anti join {{ this }} as current_pick
        on
            latest.record_id = current_pick.record_id
            and latest.file_sha256 = current_pick.file_sha256
            and latest.row_number = current_pick.row_number
            and latest.staged_at = current_pick.staged_at
            and latest.versions = current_pick.versions
{%- endif %}
