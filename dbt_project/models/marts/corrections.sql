-- The audit trail of the stewards' corrections: one row per filled line of every corrections sheet
-- dropped in landing/corrections/ (file, line, the cell it corrects, old and new value, when, and
-- what became of it). Holds personal data (values as delivered): never in the shared exports.
select
    {{ ward_code() }} as ward_code,
    cast(corrections_file as {{ text_type() }}) as corrections_file,
    cast(corrections_row as integer) as corrections_row,
    cast(source as {{ text_type() }}) as source,
    cast(source_file as {{ text_type() }}) as source_file,
    cast(row_number as integer) as row_number,
    cast(column_name as {{ text_type() }}) as {{ adapter.quote('column') }},
    cast(rule as {{ text_type() }}) as rule,
    cast(old_value as {{ text_type() }}) as old_value,
    cast(new_value as {{ text_type() }}) as new_value,
    cast(corrected_at as date) as corrected_at,
    cast(status as {{ text_type() }}) as status,
    cast(case status
        when 'rejected' then ingest_reason_vi
        when 'superseded' then 'Đã có bản sửa mới hơn cho ô này.'
        when
            'applied_still_failing'
            then 'Đã áp dụng nhưng dòng vẫn vi phạm quy tắc ' || rule || ': kiểm tra lại giá trị.'
        else 'Đã áp dụng; lỗi đã được giải quyết.'
    end as {{ text_type() }}) as reason_vi,
    cast(case status
        when 'rejected' then ingest_reason_en
        when 'superseded' then 'A later correction of this cell won.'
        when
            'applied_still_failing'
            then 'Applied, but the row still breaks rule ' || rule || ': check the value.'
        else 'Applied; the problem is resolved.'
    end as {{ text_type() }}) as reason_en,
    cast(note as {{ text_type() }}) as note,
    cast(loaded_at as timestamp) as loaded_at
from {{ ref('int_corrections__resolutions') }}
