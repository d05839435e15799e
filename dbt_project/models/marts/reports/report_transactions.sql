-- No as_of_date column: a row depends only on its invoice, so an invoice's row stays the same from run to
-- run and a publication rewrites only the months that changed (cltv.publish). The run's as_of is in
-- gold.publication and the publication's manifest.
with

invoices as (

    -- an invoice is visible when its first line is (invoice_date: the first line's date)
    select * from {{ ref('int_invoices_aggregated') }}
    where {{ is_visible_as_of('invoice_date') }}

),

final as (

    select
        invoice_no,
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
