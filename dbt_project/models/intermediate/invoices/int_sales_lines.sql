with

classified as (

    select * from {{ ref('int_invoice_lines_classified') }}

),

final as (

    -- product sales at a valid price, with or without a customer (guest checkouts count in sales totals)
    select
        invoice_line_id,
        invoice_no,
        is_cancellation,
        invoiced_at,
        invoice_date,
        stock_code,
        description,
        customer_id,
        is_missing_customer as is_guest,
        country,
        quantity,
        unit_price,
        revenue,
        _load_id,
        _loaded_at

    from classified
    where not is_duplicate
        and not is_non_product
        and not is_invalid_price

)

select * from final
