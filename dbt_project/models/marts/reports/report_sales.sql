with

invoices as (

    select * from {{ ref('int_invoices_aggregated') }}
    where {{ is_visible_as_of('invoice_date') }}

),

invoices_by_month as (

    select
        *,
        cast({{ dbt.date_trunc('month', 'invoice_date') }} as date) as month_start_date

    from invoices

),

first_purchases as (

    -- the month of each customer's first order visible at as_of
    select
        customer_id,
        min(month_start_date) as first_purchase_month

    from invoices_by_month
    where not is_guest
        and not is_cancellation
    group by customer_id

),

monthly_customers as (

    select
        invoices_by_month.month_start_date,
        count(distinct invoices_by_month.customer_id) as customer_count,
        count(distinct case
            when first_purchases.first_purchase_month = invoices_by_month.month_start_date
                then invoices_by_month.customer_id
        end) as new_customer_count

    from invoices_by_month
    inner join first_purchases
        on invoices_by_month.customer_id = first_purchases.customer_id
    where not invoices_by_month.is_cancellation
    group by invoices_by_month.month_start_date

),

monthly_sales as (

    -- one row per invoice: counting rows counts distinct invoices
    select
        month_start_date,
        count(case when not is_cancellation then invoice_no end) as order_count,
        count(case when not is_cancellation and is_guest then invoice_no end) as guest_order_count,
        count(case when is_cancellation then invoice_no end) as cancellation_count,
        sum(case when not is_cancellation then revenue else 0 end) as gross_revenue,
        sum(case when is_cancellation then revenue else 0 end) as returned_revenue,
        sum(revenue) as net_revenue,
        sum(case when is_guest then revenue else 0 end) as guest_net_revenue

    from invoices_by_month
    group by month_start_date

),

final as (

    select
        monthly_sales.month_start_date,
        {{ as_of_date() }} as as_of_date,
        monthly_sales.order_count,
        monthly_sales.guest_order_count,
        monthly_sales.cancellation_count,
        coalesce(monthly_customers.customer_count, 0) as customer_count,
        coalesce(monthly_customers.new_customer_count, 0) as new_customer_count,
        coalesce(monthly_customers.customer_count - monthly_customers.new_customer_count, 0)
            as returning_customer_count,
        monthly_sales.gross_revenue,
        monthly_sales.returned_revenue,
        monthly_sales.net_revenue,
        monthly_sales.guest_net_revenue

    from monthly_sales
    left join monthly_customers
        on monthly_sales.month_start_date = monthly_customers.month_start_date

)

select * from final
