with

lines as (

    select * from {{ ref('stg_bronze__invoice_lines') }}

),

keyed as (

    select
        *,
        md5(concat_ws('|',
            invoice_no, stock_code, coalesce(description, ''), cast(quantity as varchar),
            cast(invoiced_at as varchar), cast(unit_price as varchar), coalesce(customer_id, ''),
            coalesce(country, '')
        )) as invoice_line_id

    from lines

),

numbered as (

    select
        *,
        -- the first copy (oldest load, then file order) is kept; later copies are duplicates
        row_number() over (
            partition by invoice_line_id
            order by _loaded_at, _load_id, _source_file, _source_sheet, _source_row
        ) as copy_number

    from keyed

),

classified as (

    select
        *,
        case
            when copy_number > 1 then 'duplicate'
            when is_missing_customer then 'missing_customer'
            when is_non_product then 'non_product'
            when is_invalid_price then 'invalid_price'
        end as exclusion_reason

    from numbered

),

final as (

    select * from classified

)

select * from final
