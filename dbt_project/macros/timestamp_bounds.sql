{#-
    `[first, last]` as SQL timestamp literals from a query returning one row of two timestamps, for filters
    written into a model's SQL so that the database skips stored row groups by their zone maps. Null
    bounds (nothing new, or at parse time) come back as `null`, which makes a `between` filter false.
-#}
{% macro timestamp_bounds(bounds_query) -%}
    {%- if execute -%}
        {%- set row = run_query(bounds_query).rows[0] -%}
        {{- return(["timestamp '" ~ row[0] ~ "'" if row[0] is not none else 'null',
                    "timestamp '" ~ row[1] ~ "'" if row[1] is not none else 'null']) -}}
    {%- else -%}
        {{- return(['null', 'null']) -}}
    {%- endif -%}
{%- endmacro %}


{#-
    The period that holds every sales line of the invoices a run re-aggregates (int_invoices_aggregated):
    the new loads' lines, and the earlier lines of the same invoices, whose first and last `invoiced_at`
    the model already stores. Known exactly without reading the stored lines.

    Arguments:
        lines: the lines the model aggregates, with `invoice_no`, `invoiced_at` and `_load_id`.
        new_loads: the filter of the new loads' lines (what is_new_load returned).
-#}
{% macro touched_invoices_period(lines, new_loads) -%}
    {%- set bounds_query -%}
        with

        new_lines as (
            select invoice_no, invoiced_at from {{ lines }}
            where {{ new_loads }}
        ),

        stored as (
            select first_invoiced_at, last_invoiced_at from {{ this }}
            where invoice_no in (select invoice_no from new_lines)
        ),

        bounds as (
            select min(invoiced_at) as first_at, max(invoiced_at) as last_at from new_lines
            union all
            select min(first_invoiced_at), max(last_invoiced_at) from stored
        )

        select min(first_at), max(last_at) from bounds
    {%- endset -%}
    {{- return(timestamp_bounds(bounds_query)) -}}
{%- endmacro %}
