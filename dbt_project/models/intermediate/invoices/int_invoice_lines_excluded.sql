with

classified as (

    select * from {{ ref('int_invoice_lines_classified') }}

),

final as (

    select
        invoice_line_id,
        exclusion_reason,
        invoice_no,
        stock_code,
        description,
        quantity,
        invoiced_at,
        invoice_date,
        unit_price,
        revenue,
        customer_id,
        country,
        _source_file,
        _source_sheet,
        _source_row,
        _load_id,
        _loaded_at

    from classified
    where exclusion_reason is not null

)

select * from final
