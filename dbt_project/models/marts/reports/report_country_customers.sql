with

invoices as (

    select * from {{ ref('int_invoices_aggregated') }}
    where {{ is_visible_as_of('invoice_date') }}

),

countries as (

    -- the invoice's country: a customer who ordered from two countries counts in both; one row per
    -- invoice, so counting rows counts distinct invoices
    select
        country,
        count(distinct customer_id) as customer_count,
        count(case when not is_cancellation then invoice_no end) as order_count,
        count(case when not is_cancellation and is_guest then invoice_no end) as guest_order_count,
        sum(quantity) as quantity,
        sum(revenue) as net_revenue,
        sum(case when is_guest then revenue else 0 end) as guest_net_revenue

    from invoices
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
