with

invoice_lines as (

    select * from {{ ref('fct_invoices') }}

),

lines_per_country as (

    select
        customer_id,
        country,
        count(*) as lines,
        max(invoiced_at) as last_line_at

    from invoice_lines
    group by customer_id, country

),

main_country as (

    -- the country of most lines; ties go to the most recent, then alphabetical
    select
        customer_id,
        country

    from lines_per_country
    qualify row_number() over (
        partition by customer_id order by lines desc, last_line_at desc, country
    ) = 1

),

customer_totals as (

    select
        customer_id,
        min(invoiced_at) filter (where not is_cancellation) as first_purchase_at,
        max(invoiced_at) filter (where not is_cancellation) as last_purchase_at,
        count(distinct invoice_no) filter (where not is_cancellation) as lifetime_orders,
        count(distinct invoice_no) filter (where is_cancellation) as lifetime_cancellations,
        sum(revenue) as lifetime_net_revenue

    from invoice_lines
    group by customer_id

),

final as (

    select
        customer_totals.customer_id,
        main_country.country,
        customer_totals.first_purchase_at,
        customer_totals.last_purchase_at,
        customer_totals.lifetime_orders,
        customer_totals.lifetime_cancellations,
        customer_totals.lifetime_net_revenue

    from customer_totals
    inner join main_country
        on customer_totals.customer_id = main_country.customer_id

)

select * from final
