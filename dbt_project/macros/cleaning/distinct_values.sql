{#-
    The distinct delivered values of one or more columns of `relation`, as one column `raw_value`
    (null included: an empty cell has its cleaned form too).

    Cleaning is paid once per distinct value, not once per row: names, IDs, phones, dates, groups and
    enumerations repeat across the rows of a snapshot and across snapshots (a 400,000-row citizens
    lake holds ~2 rows per name, ~10 per address, thousands per date of update). A staging model
    cleans `select ... from distinct_values(...)` in a CTE and joins the row back on its raw text
    (`on cte.raw_value is not distinct from source.column`): every cleaning macro is a function of
    the cell alone, so the staged rows are the same as cleaning each row.
-#}
{% macro distinct_values(relation, columns) -%}
    (
        select distinct raw_value
        from (
            {%- for column in columns %}
            select {{ column }} as raw_value from {{ relation }}
            {{- ' union all' if not loop.last }}
            {%- endfor %}
        )
    )
{%- endmacro %}
