with

product_days as (

    select * from {{ ref('int_product_days_aggregated') }}
    where {{ is_visible_as_of('invoice_date') }}

),

products as (

    select * from {{ ref('dim_product') }}

),

product_totals as (

    -- an invoice or a customer counts once, on the first day it had the product: the sum over the days up to
    -- as_of is the distinct count over the lines up to as_of
    select
        stock_code,
        sum(first_invoices) as invoice_count,
        sum(first_cancellations) as cancellation_count,
        sum(first_customers) as customer_count,
        sum(quantity_sold) as quantity_sold,
        sum(quantity_returned) as quantity_returned,
        sum(net_revenue) as net_revenue

    from product_days
    group by stock_code

),

final as (

    select
        products.product_id,
        product_totals.stock_code,
        products.description,
        {{ as_of_date() }} as as_of_date,
        cast(product_totals.invoice_count as bigint) as invoice_count,
        cast(product_totals.cancellation_count as bigint) as cancellation_count,
        cast(product_totals.customer_count as bigint) as customer_count,
        product_totals.quantity_sold,
        product_totals.quantity_returned,
        product_totals.net_revenue

    from product_totals
    inner join products
        on product_totals.stock_code = products.stock_code

)

select * from final
