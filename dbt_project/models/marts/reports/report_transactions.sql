with

invoices as (

    -- an invoice is visible when its first line is (invoice_date: the first line's date)
    select * from {{ ref('int_invoices_aggregated') }}
    where {{ is_visible_as_of('invoice_date') }}

),

final as (

    select
        invoice_no,
        {{ as_of_date() }} as as_of_date,
        customer_id,
        is_guest,
        is_cancellation,
        country,
        first_invoiced_at as invoiced_at,
        invoice_date,
        line_count,
        product_count,
        quantity,
        revenue

    from invoices

)

select * from final
