{#- Every non-null value lies in [min_value, max_value] (rates are shares in 0..1). -#}
{% test value_between(model, column_name, min_value, max_value) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
      and not ({{ column_name }} between {{ min_value }} and {{ max_value }})
{% endtest %}
