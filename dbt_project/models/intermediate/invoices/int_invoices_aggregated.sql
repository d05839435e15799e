-- incremental: a run aggregates again only the invoices with a line in a load it has not aggregated yet
-- (macro is_new_load), from all their lines, old and new, so an invoice split across two
-- files comes out whole; delete+insert on invoice_no replaces their rows. A full refresh gives the same table.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='invoice_no',
    )
}}
{%- set new_loads = is_new_load(ref('int_invoice_lines_classified')) %}

with

sales_lines as (

    select * from {{ ref('int_sales_lines') }}

),

classified_lines as (

    select * from {{ ref('int_invoice_lines_classified') }}

),

{% if is_incremental() %}
new_load_invoices as (

    -- any line of a new load (sales line or not) names its invoice; a few more than needed is harmless
    select distinct invoice_no
    from classified_lines
    where {{ new_loads }}

),
{% endif %}

lines_to_aggregate as (

    select * from sales_lines
    {% if is_incremental() -%}
    {%- set period = touched_invoices_period(ref('int_invoice_lines_classified'), new_loads) %}
    -- every line of a touched invoice lies in this period (see the macro), so the scan reads the period's
    -- row groups only, not every stored invoice number
    where invoiced_at between {{ period[0] }} and {{ period[1] }}
        and invoice_no in (select invoice_no from new_load_invoices)
    {%- endif %}

),

invoices as (

    -- an invoice has one customer and one country; a few span two minutes: the first one dates it
    select
        invoice_no,
        max(customer_id) as customer_id,
        max(country) as country,
        bool_or(is_cancellation) as is_cancellation,
        min(invoiced_at) as first_invoiced_at,
        max(invoiced_at) as last_invoiced_at,
        min(invoice_date) as invoice_date,
        count(*) as line_count,
        count(distinct stock_code) as product_count,
        sum(quantity) as quantity,
        sum(revenue) as revenue,
        max(_loaded_at) as _loaded_at,
        {{ feature_arg_max('_load_id', '_loaded_at') }} as _load_id

    from lines_to_aggregate
    group by invoice_no

),

final as (

    select
        invoice_no,
        customer_id,
        customer_id is null as is_guest,
        is_cancellation,
        country,
        first_invoiced_at,
        last_invoiced_at,
        invoice_date,
        line_count,
        product_count,
        quantity,
        revenue,
        _load_id,
        _loaded_at

    from invoices

)

select * from final
