{#-
    Every non-null value matches the RE2 pattern in full, e.g. `[0-9]{12}` for a personal ID.
-#}
{% test match_pattern(model, column_name, pattern) %}
    select {{ column_name }}
    from {{ model }}
    where
        {{ column_name }} is not null
        and not regexp_full_match(cast({{ column_name }} as varchar), '{{ pattern }}')
{% endtest %}
