{#-
    What an incremental run of int_product_days_aggregated rebuilds and reads, as SQL literals written into
    its SQL (so that filters on them skip other row groups by their zone maps): `[first_day, read_from]`.

    `first_day` is the earliest `invoice_date` of the new loads' sales lines: the run rebuilds the days from
    it on. `read_from` is the first line time of the invoices that straddle that day (a line before it, a
    line on or after it), as the invoice rollup stores them: their earlier lines, and only theirs, tell
    which invoices had a product before `first_day`. Both are `null` when there is nothing to read (no new
    line; no straddling invoice), which makes a `>=` or `<` filter on them false; and at parse time.

    Arguments:
        lines: the sales lines, with `invoice_date` (ref('int_sales_lines')).
        invoices: the invoice rollup of those lines, with `first_invoiced_at` and `last_invoiced_at`
            (ref('int_invoices_aggregated'), built before the model in the same run).
        new_loads: the filter of the new loads' lines (what is_new_load returned).
-#}
{% macro product_days_to_rebuild(lines, invoices, new_loads) -%}
    {%- if not execute -%}
        {{- return(['null', 'null']) -}}
    {%- endif -%}
    {%- set bounds_query -%}
        with

        first_new_day as (
            select min(invoice_date) as first_day from {{ lines }}
            where {{ new_loads }}
        )

        select
            first_new_day.first_day,
            (
                select min(first_invoiced_at) from {{ invoices }}
                where first_invoiced_at < first_new_day.first_day
                    and last_invoiced_at >= first_new_day.first_day
            ) as read_from

        from first_new_day
    {%- endset -%}
    {%- set row = run_query(bounds_query).rows[0] -%}
    {{- return([
        "date '" ~ row[0] ~ "'" if row[0] is not none else 'null',
        "timestamp '" ~ row[1] ~ "'" if row[1] is not none else 'null',
    ]) -}}
{%- endmacro %}
