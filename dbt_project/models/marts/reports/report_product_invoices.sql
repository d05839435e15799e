with

product_days as (

    select * from {{ ref('int_product_days_aggregated') }}
    where {{ is_visible_as_of('invoice_date') }}

),

product_customers as (

    select * from {{ ref('int_product_customers_aggregated') }}
    where {{ is_visible_as_of('first_bought_date') }}

),

products as (

    select * from {{ ref('dim_product') }}

),

day_totals as (

    -- an invoice counts once, on the first day it had the product: the sum over the days up to as_of is
    -- the distinct count over the lines up to as_of
    select
        stock_code,
        sum(first_invoices) as invoice_count,
        sum(first_cancellations) as cancellation_count,
        sum(quantity_sold) as quantity_sold,
        sum(quantity_returned) as quantity_returned,
        sum(net_revenue) as net_revenue

    from product_days
    group by stock_code

),

customer_totals as (

    -- a customer counts once, from the first day they had the product
    select
        stock_code,
        count(*) as customer_count

    from product_customers
    group by stock_code

),

final as (

    select
        products.product_id,
        day_totals.stock_code,
        products.description,
        {{ as_of_date() }} as as_of_date,
        cast(day_totals.invoice_count as bigint) as invoice_count,
        cast(day_totals.cancellation_count as bigint) as cancellation_count,
        cast(coalesce(customer_totals.customer_count, 0) as bigint) as customer_count,
        day_totals.quantity_sold,
        day_totals.quantity_returned,
        day_totals.net_revenue

    from day_totals
    inner join products
        on day_totals.stock_code = products.stock_code
    left join customer_totals
        on day_totals.stock_code = customer_totals.stock_code

)

select * from final
