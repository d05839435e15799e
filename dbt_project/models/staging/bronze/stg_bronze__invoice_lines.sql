with

source as (

    select * from {{ source('bronze', 'raw_invoices') }}

),

renamed as (

    select
        trim(invoice_no) as invoice_no,
        upper(trim(stock_code)) as stock_code,
        trim(description) as description,
        cast(quantity as integer) as quantity,
        invoice_date as invoiced_at,
        cast(invoice_date as date) as invoice_date,
        cast(round(unit_price, 3) as decimal(18, 3)) as unit_price,
        nullif(regexp_replace(trim(customer_id), '\.0+$', ''), '') as customer_id,
        trim(country) as country,
        _source_file,
        _source_sheet,
        _source_row,
        _load_id,
        _loaded_at

    from source

),

flagged as (

    select
        *,
        cast(quantity * unit_price as decimal(18, 3)) as revenue,
        upper(invoice_no) like 'C%' as is_cancellation,
        customer_id is null as is_missing_customer,
        {{ is_non_product_code('stock_code') }} as is_non_product,
        unit_price <= 0 as is_invalid_price

    from renamed

),

keyed as (

    select
        -- the line's business key: equal for exact duplicates, whichever file or load they came from
        {{ line_key("concat_ws('|',
            invoice_no, stock_code, coalesce(description, ''), cast(quantity as varchar),
            cast(invoiced_at as varchar), cast(unit_price as varchar), coalesce(customer_id, ''),
            coalesce(country, '')
        )") }} as invoice_line_id,
        *

    from flagged

),

final as (

    select * from keyed

)

select * from final
