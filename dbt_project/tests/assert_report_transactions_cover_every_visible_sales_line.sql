-- The per-invoice report adds up to the visible sales lines (customers and guests), line for line and
-- to the cent. Returns a row when not.

with

sales_lines as (

    select
        count(*) as line_count,
        coalesce(sum(revenue), 0) as revenue

    from {{ ref('int_sales_lines') }}
    where {{ is_visible_as_of('invoice_date') }}

),

transactions as (

    select
        coalesce(sum(line_count), 0) as line_count,
        coalesce(sum(revenue), 0) as revenue

    from {{ ref('report_transactions') }}

),

final as (

    select
        sales_lines.line_count as sales_line_count,
        transactions.line_count as transaction_line_count,
        sales_lines.revenue as sales_revenue,
        transactions.revenue as transaction_revenue

    from sales_lines
    cross join transactions
    where sales_lines.line_count <> transactions.line_count
        or sales_lines.revenue <> transactions.revenue

)

select * from final
