with

invoice_lines as (

    select * from {{ ref('fct_invoices') }}

),

customer_invoices as (

    -- the invoices of fct_invoices' lines (customers' sales lines), one row each
    select * from {{ ref('int_invoices_aggregated') }}
    where not is_guest

),

first_product_purchases as (

    -- the day each customer first bought each product: finer than an invoice, so from the lines
    select
        customer_id,
        product_id,
        min(invoice_date) as first_purchase_date

    from invoice_lines
    where not is_cancellation
    group by customer_id, product_id

),

new_products_per_day as (

    select
        customer_id,
        first_purchase_date as activity_date,
        count(*) as new_products

    from first_product_purchases
    group by customer_id, first_purchase_date

),

invoices_aggregated_to_days as (

    select
        customer_id,
        invoice_date as activity_date,
        -- the country of the day's latest invoice (a few invoices span two minutes: their last one)
        {{ feature_arg_max('country', 'last_invoiced_at') }} as country,
        sum(case when not is_cancellation then 1 else 0 end) as orders,
        sum(case when is_cancellation then 1 else 0 end) as cancellations,
        sum(revenue) as net_revenue,
        sum(case when not is_cancellation then revenue else 0 end) as purchase_revenue,
        sum(case when is_cancellation then -revenue else 0 end) as returned_revenue,
        sum(case when not is_cancellation then quantity else 0 end) as purchase_items,
        max(case when not is_cancellation then revenue end) as max_basket_value

    from customer_invoices
    group by customer_id, invoice_date

),

purchase_gaps as (

    select
        *,
        orders > 0 as is_purchase_day,
        case
            when orders > 0
                then lag(activity_date) over (
                    partition by customer_id, orders > 0
                    order by activity_date
                )
        end as previous_purchase_date

    from invoices_aggregated_to_days

),

final as (

    select
        purchase_gaps.customer_id,
        purchase_gaps.activity_date,
        purchase_gaps.country,
        cast(purchase_gaps.orders as integer) as orders,
        cast(purchase_gaps.cancellations as integer) as cancellations,
        cast(purchase_gaps.net_revenue as decimal(18, 3)) as net_revenue,
        cast(purchase_gaps.purchase_revenue as decimal(18, 3)) as purchase_revenue,
        cast(purchase_gaps.returned_revenue as decimal(18, 3)) as returned_revenue,
        cast(purchase_gaps.purchase_items as bigint) as purchase_items,
        cast(purchase_gaps.max_basket_value as decimal(18, 3)) as max_basket_value,
        cast(coalesce(new_products_per_day.new_products, 0) as integer) as new_products,
        purchase_gaps.is_purchase_day,
        cast(
            {{ dbt.datediff('purchase_gaps.previous_purchase_date', 'purchase_gaps.activity_date', 'day') }}
            as integer
        ) as days_since_previous_purchase

    from purchase_gaps
    left join new_products_per_day
        on
            purchase_gaps.customer_id = new_products_per_day.customer_id
            and purchase_gaps.activity_date = new_products_per_day.activity_date

)

select * from final
