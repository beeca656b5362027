{#-
    The residential group (tổ dân phố) number from any way of writing it:
    `Tổ dân phố số 5`, `TDP 5`, `Tổ 5`, `5`, `TDP số 05`, `to dan pho so 5`, `TDP.5` -> 5.
    Null when no number can be read. Whether the group exists in the ward is a quality rule
    (CIT_GROUP_INVALID / HH_GROUP_INVALID, expectations/rules.yml), not a cleaning step.
-#}
{% macro residential_group_no(column) -%}
    try_cast({{ regexp_extract(
        fold_text(column),
        "'^(?:(?:to dan pho|tdp|to)[ .:#-]*)?(?:so[ .:#-]*)?([0-9]{1,4})$'",
        1
    ) }} as integer)
{%- endmacro %}
