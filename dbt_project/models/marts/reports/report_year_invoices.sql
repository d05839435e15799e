with

invoices as (

    select * from {{ ref('int_invoices_aggregated') }}
    where {{ is_visible_as_of('invoice_date') }}

),

months as (

    -- one row per invoice: counting rows counts distinct invoices
    select
        cast(extract(year from invoice_date) as integer) as invoice_year,
        cast(extract(month from invoice_date) as integer) as invoice_month,
        count(case when not is_cancellation then invoice_no end) as invoice_count,
        count(case when is_cancellation then invoice_no end) as cancellation_count,
        cast(sum(line_count) as bigint) as line_count,
        sum(quantity) as quantity,
        sum(revenue) as net_revenue

    from invoices
    group by 1, 2

),

final as (

    select
        invoice_year,
        invoice_month,
        {{ as_of_date() }} as as_of_date,
        invoice_count,
        cancellation_count,
        line_count,
        quantity,
        net_revenue,
        sum(net_revenue) over (
            partition by invoice_year
            order by invoice_month
            rows between unbounded preceding and current row
        ) as year_to_date_net_revenue

    from months

)

select * from final
