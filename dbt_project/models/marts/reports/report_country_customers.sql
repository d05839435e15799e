with

sales_lines as (

    select * from {{ ref('int_sales_lines') }}
    where {{ is_visible_as_of('invoice_date') }}

),

countries as (

    -- the line's country: a customer who ordered from two countries counts in both
    select
        country,
        count(distinct customer_id) as customer_count,
        count(distinct case when not is_cancellation then invoice_no end) as order_count,
        count(distinct case when not is_cancellation and is_guest then invoice_no end) as guest_order_count,
        sum(quantity) as quantity,
        sum(revenue) as net_revenue,
        sum(case when is_guest then revenue else 0 end) as guest_net_revenue

    from sales_lines
    group by country

),

final as (

    select
        coalesce(country, 'Unspecified') as country,
        {{ as_of_date() }} as as_of_date,
        customer_count,
        order_count,
        guest_order_count,
        quantity,
        net_revenue,
        guest_net_revenue,
        cast(
            case when customer_count > 0 then (net_revenue - guest_net_revenue) / customer_count end
            as decimal(18, 3)
        ) as net_revenue_per_customer

    from countries

)

select * from final
