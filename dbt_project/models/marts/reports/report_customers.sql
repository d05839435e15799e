-- depends_on: {{ ref('fct_invoices') }}
-- Read from the invoice rollup, but its tests compare it with fct_invoices: built after it, so those tests
-- run with this model (the DAG selects a model's tests whose parents are all built before it).
with

customer_invoices as (

    -- the invoices of fct_invoices' lines (customers' sales lines), one row each
    select * from {{ ref('int_invoices_aggregated') }}
    where not is_guest
        and {{ is_visible_as_of('invoice_date') }}

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

    -- as in dim_customer, but over the lines visible at as_of: most lines, then most recent, then name
    select
        customer_id,
        country,
        row_number() over (
            partition by customer_id
            order by line_count desc, last_line_at desc, country
        ) as country_rank

    from lines_per_country

),

customer_totals as (

    select
        customer_id,
        min(case when not is_cancellation then first_invoiced_at end) as first_purchase_at,
        max(case when not is_cancellation then last_invoiced_at end) as last_purchase_at,
        count(case when not is_cancellation then invoice_no end) as order_count,
        count(case when is_cancellation then invoice_no end) as cancellation_count,
        sum(case when not is_cancellation then quantity else 0 end) as quantity_bought,
        sum(case when not is_cancellation then revenue else 0 end) as gross_revenue,
        sum(case when is_cancellation then revenue else 0 end) as returned_revenue,
        sum(revenue) as net_revenue

    from customer_invoices
    group by customer_id

),

final as (

    select
        customer_totals.customer_id,
        countries_ranked.country,
        {{ as_of_date() }} as as_of_date,
        customer_totals.first_purchase_at,
        customer_totals.last_purchase_at,
        {{ dbt.datediff('customer_totals.first_purchase_at', as_of_date(), 'day') }} as tenure_days,
        {{ dbt.datediff('customer_totals.last_purchase_at', as_of_date(), 'day') }} as days_since_last_purchase,
        customer_totals.order_count,
        customer_totals.cancellation_count,
        customer_totals.quantity_bought,
        customer_totals.gross_revenue,
        customer_totals.returned_revenue,
        customer_totals.net_revenue,
        cast(
            case
                when customer_totals.order_count > 0
                    then customer_totals.net_revenue / customer_totals.order_count
            end
            as decimal(18, 3)
        ) as avg_order_value

    from customer_totals
    inner join countries_ranked
        on customer_totals.customer_id = countries_ranked.customer_id
        and countries_ranked.country_rank = 1

)

select * from final
