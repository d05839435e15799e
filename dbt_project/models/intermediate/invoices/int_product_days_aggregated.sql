-- incremental: a new line can change only the rows of its own day and of later days (the sums of its day; the
-- day its invoice first had its product, which can only move earlier, from a later day to its own). So a run
-- rebuilds every row from the first day of the sales lines of the loads it has not read (macro
-- is_new_load), from all the lines of those days and, to know which invoices had the
-- product before, the earlier lines of the invoices that straddle that day (a few hours of lines, found by
-- the invoice rollup's first and last line times, macro product_days_to_rebuild); delete+insert on
-- invoice_date replaces those days. Customers are counted from int_product_customers_aggregated, which keeps
-- each pair's first day, so no run reads a customer's history. A full refresh gives the same table.
-- depends_on: {{ ref('int_invoices_aggregated') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='invoice_date',
    )
}}
{%- set new_loads = is_new_load(ref('int_invoice_lines_classified')) %}
{%- if is_incremental() %}
    {%- set first_day, read_from = product_days_to_rebuild(
        ref('int_sales_lines'), ref('int_invoices_aggregated'), new_loads
    ) %}
{%- endif %}

with

sales_lines as (

    select * from {{ ref('int_sales_lines') }}

),

lines_to_aggregate as (

    select * from sales_lines
    {% if is_incremental() -%}
    -- a literal date: the scan skips the row groups of earlier days (zone maps)
    where invoice_date >= {{ first_day }}
    {%- endif %}

),

{% if is_incremental() %}
earlier_lines as (

    -- only the lines of invoices that straddle first_day can be earlier lines of the same invoices
    select * from sales_lines
    where invoiced_at >= {{ read_from }} and invoice_date < {{ first_day }}

),

earlier_invoice_products as (

    select distinct
        stock_code,
        invoice_no,
        is_cancellation

    from earlier_lines
    where invoice_no in (select invoice_no from lines_to_aggregate)

),

{% endif %}

invoice_products as (

    -- each invoice's first day with each product (a few invoices span two days), cancellations apart
    select
        stock_code,
        invoice_no,
        is_cancellation,
        min(invoice_date) as first_date

    from lines_to_aggregate
    group by stock_code, invoice_no, is_cancellation

),

first_invoice_products as (

    select invoice_products.*
    from invoice_products
    {% if is_incremental() -%}
    -- the invoices that had the product before these days count on an earlier day
    left join earlier_invoice_products
        on
            invoice_products.stock_code = earlier_invoice_products.stock_code
            and invoice_products.invoice_no = earlier_invoice_products.invoice_no
            and invoice_products.is_cancellation = earlier_invoice_products.is_cancellation
    where earlier_invoice_products.stock_code is null
    {%- endif %}

),

first_invoices_per_day as (

    select
        stock_code,
        first_date as invoice_date,
        count(case when not is_cancellation then 1 end) as first_invoices,
        count(case when is_cancellation then 1 end) as first_cancellations

    from first_invoice_products
    group by stock_code, first_date

),

product_days as (

    select
        stock_code,
        invoice_date,
        sum(case when not is_cancellation then quantity else 0 end) as quantity_sold,
        -sum(case when is_cancellation then quantity else 0 end) as quantity_returned,
        sum(revenue) as net_revenue,
        max(_loaded_at) as _loaded_at,
        {{ feature_arg_max('_load_id', '_loaded_at') }} as _load_id

    from lines_to_aggregate
    group by stock_code, invoice_date

),

final as (

    select
        product_days.stock_code,
        product_days.invoice_date,
        coalesce(first_invoices_per_day.first_invoices, 0) as first_invoices,
        coalesce(first_invoices_per_day.first_cancellations, 0) as first_cancellations,
        cast(product_days.quantity_sold as bigint) as quantity_sold,
        cast(product_days.quantity_returned as bigint) as quantity_returned,
        product_days.net_revenue,
        product_days._load_id,
        product_days._loaded_at

    from product_days
    left join first_invoices_per_day
        on
            product_days.stock_code = first_invoices_per_day.stock_code
            and product_days.invoice_date = first_invoices_per_day.invoice_date

)

select * from final
