{#- The staged rows of one source that no quarantine rule fired on: the rows the warehouse takes. -#}
{% macro kept_rows(source_name) %}
select staged.*
from {{ ref('stg_landing__' ~ source_name) }} as staged
anti join {{ ref('int_quarantined_rows') }} as quarantined
    on
        quarantined.source = '{{ source_name }}'
        and staged.file_sha256 = quarantined.file_sha256
        and staged.row_number = quarantined.row_number
{% endmacro %}
