-- incremental: every row of a customer depends only on that customer's lines and invoices (the lag over its
-- days, the first purchase of each product), so a run recomputes whole only the customers that the loads it
-- has not read touch (macro customers_touched_by_new_loads), from all of their lines and invoices, and keeps
-- the other customers' rows as they are. The pre-hook deletes the touched customers' rows, then the run
-- appends their new ones (delete+insert on customer_id would keep the rows of a customer left with no day).
-- Each row keeps the `_loaded_at` and `_load_id` of its latest invoice line: the high-water mark that tells
-- the next run which loads are new. A table built before this model was incremental has no mark: its next
-- run recomputes every customer and adds the two columns (append_new_columns). A full refresh gives the same
-- table.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_rows_of_touched_customers(ref('int_invoice_lines_classified'),
            ref('int_invoices_aggregated'), ref('fct_invoices')) }}",
    )
}}

with

invoice_lines as (

    select * from {{ ref('fct_invoices') }}

),

customer_invoices as (

    -- the invoices of fct_invoices' lines (customers' sales lines), one row each
    select * from {{ ref('int_invoices_aggregated') }}
    where not is_guest

),

{% if is_incremental() %}
touched_customers as (

    {{ customers_touched_by_new_loads(
        ref('int_invoice_lines_classified'), ref('int_invoices_aggregated'), ref('fct_invoices')
    ) }}

),
{% endif %}

lines_to_read as (

    select * from invoice_lines
    {% if is_incremental() -%}
    where customer_id in (select customer_id from touched_customers)
    {%- endif %}

),

invoices_to_read as (

    select * from customer_invoices
    {% if is_incremental() -%}
    where customer_id in (select customer_id from touched_customers)
    {%- endif %}

),

first_product_purchases as (

    -- the day each customer first bought each product: finer than an invoice, so from the lines
    select
        customer_id,
        product_id,
        min(invoice_date) as first_purchase_date

    from lines_to_read
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
        max(case when not is_cancellation then revenue end) as max_basket_value,
        max(_loaded_at) as _loaded_at,
        {{ feature_arg_max('_load_id', '_loaded_at') }} as _load_id

    from invoices_to_read
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
        ) as days_since_previous_purchase,
        purchase_gaps._load_id,
        purchase_gaps._loaded_at

    from purchase_gaps
    left join new_products_per_day
        on
            purchase_gaps.customer_id = new_products_per_day.customer_id
            and purchase_gaps.activity_date = new_products_per_day.activity_date

)

select * from final
