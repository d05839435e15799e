{#-
    ISO day of the week of a date or timestamp: 1 = Monday ... 7 = Sunday. DuckDB and Postgres read
    `extract(isodow ...)`; another adapter adds a `<adapter>__day_of_week` implementation.

    Arguments:
        column: a date or timestamp column or expression.
-#}
{% macro day_of_week(column) -%}
    {{ return(adapter.dispatch('day_of_week')(column)) }}
{%- endmacro %}

{% macro default__day_of_week(column) -%}
    cast(extract(isodow from {{ column }}) as integer)
{%- endmacro %}
