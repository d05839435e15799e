with

sales_lines as (

    select * from {{ ref('int_sales_lines') }}
    where {{ is_visible_as_of('invoice_date') }}

),

products as (

    select * from {{ ref('dim_product') }}

),

product_totals as (

    select
        stock_code,
        count(distinct case when not is_cancellation then invoice_no end) as invoice_count,
        count(distinct case when is_cancellation then invoice_no end) as cancellation_count,
        count(distinct customer_id) as customer_count,
        sum(case when not is_cancellation then quantity else 0 end) as quantity_sold,
        -sum(case when is_cancellation then quantity else 0 end) as quantity_returned,
        sum(revenue) as net_revenue

    from sales_lines
    group by stock_code

),

final as (

    select
        products.product_id,
        product_totals.stock_code,
        products.description,
        {{ as_of_date() }} as as_of_date,
        product_totals.invoice_count,
        product_totals.cancellation_count,
        product_totals.customer_count,
        product_totals.quantity_sold,
        product_totals.quantity_returned,
        product_totals.net_revenue

    from product_totals
    inner join products
        on product_totals.stock_code = products.stock_code

)

select * from final
