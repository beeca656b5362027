{#-
    Dates as the extracts write them (extract-spec, "File formats"):
      dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy, yyyy-mm-dd, yyyy/mm/dd, any of them followed by a
      time (`2026-09-01 08:30:00`, `2026-09-01T08:30`, `01/09/2026 8:30`); Excel serial numbers
      1..80000 (`45123`, `45123.5`: day n after 1899-12-30); partial dates `yyyy` and `mm/yyyy`
      (people whose exact birth date was never recorded) -> the first day of the period.
    Four digits alone are a year (1800-2199), never a serial number; other four digits are a serial
    (`9489` = 1925-12-23: an Excel date cell of the very old, written as a number). Days come before months (Vietnamese order);
    impossible dates (`31/02/1990`) and years outside 1800-2199 give null.

    parse_date(col)                  DATE or null
    date_precision(col, parsed_col)  day | month | year; null when the parsed date is null
    parse_timestamp(col)             TIMESTAMP: the date with its time of day when one was written
-#}
{#- The date part of a cell: `01/03/1995` of ` 01/03/1995 08:00 `; '' when the cell is no date. -#}
{% macro _date_token(column) -%}
    {{ regexp_extract(
        column,
        "'^[\\s\\p{Z}]*([0-9./,-]+)(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?)?[\\s\\p{Z}]*$'",
        1
    ) }}
{%- endmacro %}

{% macro _excel_serial(token) -%}
    case
        when
            {{ regexp_full_match(token, "'[0-9]{1,5}([.,][0-9]+)?'") }}
            and not {{ regexp_full_match(token, "'(1[89]|2[01])[0-9]{2}'") }}
            then try_cast(replace({{ token }}, ',', '.') as double)
    end
{%- endmacro %}

{% macro parse_date(column) -%}
    {%- set token = _date_token(column) -%}
    {%- set year = "(1[89]|2[01])[0-9]{2}" -%}
    case
        when {{ regexp_full_match(token, "'" ~ year ~ "'") }}
            then make_date(cast({{ token }} as integer), 1, 1)
        when {{ regexp_full_match(token, "'[0-9]{1,2}[/.-]" ~ year ~ "'") }}
            then cast({{ try_strptime("'01/' || translate(" ~ token ~ ", '.-', '//')", "'%d/%m/%Y'") }} as date)
        when {{ regexp_full_match(token, "'[0-9]{1,2}[/.-][0-9]{1,2}[/.-]" ~ year ~ "'") }}
            then cast({{ try_strptime("translate(" ~ token ~ ", '.-', '//')", "'%d/%m/%Y'") }} as date)
        when {{ regexp_full_match(token, "'" ~ year ~ "[/.-][0-9]{1,2}[/.-][0-9]{1,2}'") }}
            then cast({{ try_strptime("translate(" ~ token ~ ", '/.', '--')", "'%Y-%m-%d'") }} as date)
        when {{ _excel_serial(token) }} between 1 and 80000
            then {{ add_days("date '1899-12-30'", "cast(floor(" ~ _excel_serial(token) ~ ") as integer)") }}
    end
{%- endmacro %}

{% macro date_precision(column, parsed_column) -%}
    case
        when {{ parsed_column }} is null then null
        when {{ regexp_full_match(_date_token(column), "'(1[89]|2[01])[0-9]{2}'") }} then 'year'
        when {{ regexp_full_match(_date_token(column), "'[0-9]{1,2}[/.-][0-9]{4}'") }} then 'month'
        else 'day'
    end
{%- endmacro %}

{% macro parse_timestamp(column) -%}
    case
        when {{ _excel_serial(_date_token(column)) }} between 1 and 80000
            then {{ add_microseconds(
                "timestamp '1899-12-30'",
                "cast(round(" ~ _excel_serial(_date_token(column)) ~ " * 86400000000) as bigint)"
            ) }}
        else {{ at_time_of_day(
            parse_date(column),
            regexp_extract(
                column, "'[ T]([0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)([.,][0-9]+)?[\\s\\p{Z}]*$'", 1
            )
        ) }}
    end
{%- endmacro %}
