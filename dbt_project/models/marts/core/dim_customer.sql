-- depends_on: {{ ref('fct_invoices') }}
-- Read from the invoice rollup, but its tests compare it with fct_invoices: built after it, so those tests
-- run with this model (the DAG selects a model's tests whose parents are all built before it).
with

customer_invoices as (

    -- the invoices of fct_invoices' lines (customers' sales lines), one row each
    select * from {{ ref('int_invoices_aggregated') }}
    where not is_guest

),

lines_per_country as (

    select
        customer_id,
        country,
        sum(line_count) as line_count,
        max(last_invoiced_at) as last_line_at

    from customer_invoices
    group by customer_id, country

),

countries_ranked as (

    -- the country of most lines; ties go to the most recent, then alphabetical
    select
        customer_id,
        country,
        row_number() over (
            partition by customer_id
            order by line_count desc, last_line_at desc, country
        ) as country_rank

    from lines_per_country

),

main_country as (

    select
        customer_id,
        country

    from countries_ranked
    where country_rank = 1

),

customer_totals as (

    select
        customer_id,
        min(case when not is_cancellation then first_invoiced_at end) as first_purchase_at,
        max(case when not is_cancellation then last_invoiced_at end) as last_purchase_at,
        count(case when not is_cancellation then invoice_no end) as lifetime_orders,
        count(case when is_cancellation then invoice_no end) as lifetime_cancellations,
        sum(revenue) as lifetime_net_revenue

    from customer_invoices
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
