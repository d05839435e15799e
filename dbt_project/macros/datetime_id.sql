{#-
    Integer key of a timestamp truncated to the minute, yyyymmddhhmi (e.g. 201012010826), as used by
    `dim_datetime`. Built with ANSI `extract` only, so it works on any warehouse.

    Arguments:
        column: a timestamp column or expression.
-#}
{% macro datetime_id(column) -%}
    cast(
        extract(year from {{ column }}) * 100000000
        + extract(month from {{ column }}) * 1000000
        + extract(day from {{ column }}) * 10000
        + extract(hour from {{ column }}) * 100
        + extract(minute from {{ column }})
        as bigint
    )
{%- endmacro %}
