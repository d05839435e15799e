with

classified as (

    select * from {{ ref('int_invoice_lines_classified') }}

),

final as (

    select
        invoice_line_id,
        invoice_no,
        is_cancellation,
        invoiced_at,
        invoice_date,
        stock_code as product_id,
        customer_id,
        country,
        quantity,
        unit_price,
        revenue,
        _load_id

    from classified
    where exclusion_reason is null

)

select * from final
