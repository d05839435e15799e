{#-
    The earliest `invoice_date` of the lines of the new loads, as a SQL date literal written into an
    incremental model's SQL (so that a filter on it skips earlier row groups by their zone maps); `null`
    when there is no new line (a `>=` or `<` filter on it is then false), and at parse time.

    Arguments:
        lines: the lines, with `invoice_date` (e.g. ref('int_sales_lines')).
        new_loads: the filter of the new loads' lines (e.g. what is_new_load_by_high_water_mark returned).
-#}
{% macro first_day_of_new_lines(lines, new_loads) -%}
    {%- if execute -%}
        {%- set first_day = run_query(
            'select min(invoice_date) from ' ~ lines ~ ' where ' ~ new_loads
        ).columns[0].values()[0] -%}
        {{- return("date '" ~ first_day ~ "'" if first_day is not none else 'null') -}}
    {%- else -%}
        {{- return('null') -}}
    {%- endif -%}
{%- endmacro %}
