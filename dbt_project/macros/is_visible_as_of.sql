{#-
    True for rows dated on or before the run's `as_of` (inclusive business date): `column < as_of + 1 day`,
    which holds for date and timestamp columns alike. Every as_of-dependent report filters with it.

    Arguments:
        column: a date or timestamp column.
-#}
{% macro is_visible_as_of(column) -%}
    {{ column }} < {{ dbt.dateadd('day', 1, as_of_date()) }}
{%- endmacro %}
