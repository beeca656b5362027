{#-
    The staged rows of one source that no quarantine rule fired on: the rows the warehouse takes.
    Incremental (the kept-rows models): a run adds the rows not kept yet, and the pre-hook
    delete_stale_kept_rows first removes the rows staged again since (staged_at moved) or now
    quarantined (the rules changed). No state but the tables themselves: a failed run leaves
    nothing to catch up by hand.
-#}
{% macro kept_rows(source_name) %}
select staged.*
from {{ ref('stg_landing__' ~ source_name) }} as staged
anti join {{ ref('int_quarantined_rows') }} as quarantined
    on
        quarantined.source = '{{ source_name }}'
        and staged.file_sha256 = quarantined.file_sha256
        and staged.row_number = quarantined.row_number
{%- if is_incremental() %}
anti join {{ this }} as already_kept
    on
        staged.file_sha256 = already_kept.file_sha256
        and staged.row_number = already_kept.row_number
{%- endif %}
{% endmacro %}

{% macro delete_stale_kept_rows(source_name) %}
{%- if is_incremental() %}
delete from {{ this }} as kept
where
    not exists (
        select 1 from {{ ref('stg_landing__' ~ source_name) }} as staged
        where
            staged.file_sha256 = kept.file_sha256
            and staged.row_number = kept.row_number
            and staged.staged_at = kept.staged_at
    )
    or exists (
        select 1 from {{ ref('int_quarantined_rows') }} as quarantined
        where
            quarantined.source = '{{ source_name }}'
            and quarantined.file_sha256 = kept.file_sha256
            and quarantined.row_number = kept.row_number
    )
{%- endif %}
{% endmacro %}
