with

sales_lines as (

    select * from {{ ref('int_sales_lines') }}
    where {{ is_visible_as_of('invoice_date') }}

),

invoices as (

    -- an invoice has one customer and one country; a few span two minutes: the first one dates it
    select
        invoice_no,
        max(customer_id) as customer_id,
        max(case when is_guest then 1 else 0 end) = 1 as is_guest,
        max(case when is_cancellation then 1 else 0 end) = 1 as is_cancellation,
        max(country) as country,
        min(invoiced_at) as invoiced_at,
        min(invoice_date) as invoice_date,
        count(*) as line_count,
        count(distinct stock_code) as product_count,
        sum(quantity) as quantity,
        sum(revenue) as revenue

    from sales_lines
    group by invoice_no

),

final as (

    select
        invoice_no,
        {{ as_of_date() }} as as_of_date,
        customer_id,
        is_guest,
        is_cancellation,
        country,
        invoiced_at,
        invoice_date,
        line_count,
        product_count,
        quantity,
        revenue

    from invoices

)

select * from final
