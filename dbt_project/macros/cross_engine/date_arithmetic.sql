{#- Date and timestamp arithmetic. DuckDB: `date + integer` (days), `timestamp + to_microseconds(n)`
    and `date + time`; Spark: `date_add`, `timestampadd`, and no TIME type at all, so the time of
    day is parsed with the date as a timestamp. -#}
{% macro add_days(date_expression, days) -%}
    {{ return(adapter.dispatch('add_days')(date_expression, days)) }}
{%- endmacro %}

{% macro duckdb__add_days(date_expression, days) -%}
    {{ date_expression }} + {{ days }}
{%- endmacro %}

{% macro spark__add_days(date_expression, days) -%}
    date_add({{ date_expression }}, {{ days }})
{%- endmacro %}

{% macro add_microseconds(timestamp_expression, microseconds) -%}
    {{ return(adapter.dispatch('add_microseconds')(timestamp_expression, microseconds)) }}
{%- endmacro %}

{% macro duckdb__add_microseconds(timestamp_expression, microseconds) -%}
    {{ timestamp_expression }} + to_microseconds({{ microseconds }})
{%- endmacro %}

{% macro spark__add_microseconds(timestamp_expression, microseconds) -%}
    timestampadd(microsecond, {{ microseconds }}, {{ timestamp_expression }})
{%- endmacro %}

{#- `date_expression` at the time of day written in `time_text` (`8:30`, `14:05:09`); midnight
    when the text is null or no time of day (Spark: `24:00:00` too, which DuckDB reads as the next
    day's midnight). -#}
{% macro at_time_of_day(date_expression, time_text) -%}
    {{ return(adapter.dispatch('at_time_of_day')(date_expression, time_text)) }}
{%- endmacro %}

{% macro duckdb__at_time_of_day(date_expression, time_text) -%}
    ({{ date_expression }}) + coalesce(
        try_cast({{ time_text }} as time),
        time '00:00:00'
    )
{%- endmacro %}

{% macro spark__at_time_of_day(date_expression, time_text) -%}
    coalesce(
        try_to_timestamp(
            cast(({{ date_expression }}) as string) || ' ' || {{ time_text }}, 'yyyy-MM-dd H:mm[:ss]'
        ),
        cast(({{ date_expression }}) as timestamp)
    )
{%- endmacro %}

{#- Days from `start_date` to `end_date`: DuckDB's `date - date` is an integer; Spark's is an
    interval, so `datediff`. -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    {{ end_date }} - {{ start_date }}
{%- endmacro %}

{% macro spark__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}
