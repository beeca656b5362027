{#-
    Age in whole years on a date: the number of birthdays that have passed. Not
    date_diff('year', ...), which counts calendar-year boundaries (31/12/2020 -> 01/01/2021 is
    "1 year"). Someone born on 29 February has their birthday on 1 March in other years.
-#}
{% macro age_in_years(birth_date, on_date) -%}
    (
        year({{ on_date }}) - year({{ birth_date }})
        - case
            when month({{ on_date }}) * 100 + day({{ on_date }})
                < month({{ birth_date }}) * 100 + day({{ birth_date }})
                then 1
            else 0
        end
    )
{%- endmacro %}
