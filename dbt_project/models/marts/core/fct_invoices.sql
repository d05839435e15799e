-- incremental: a run adds the lines of loads it has not seen (int_invoice_lines_classified marks every
-- copy but the first as a duplicate, so appending the new loads' kept lines cannot repeat one).
{{ config(materialized='incremental', incremental_strategy='append') }}

with

classified as (

    select * from {{ ref('int_invoice_lines_classified') }}
    where {{ is_new_load(ref('int_invoice_lines_classified')) }}

),

customer_lines as (

    select * from classified
    where exclusion_reason is null

),

final as (

    select
        invoice_line_id,
        invoice_no,
        is_cancellation,
        invoiced_at,
        invoice_date,
        {{ datetime_id('invoiced_at') }} as datetime_id,
        {{ dbt.hash('stock_code') }} as product_id,
        stock_code,
        customer_id,
        country,
        quantity,
        unit_price,
        revenue,
        _load_id,
        _loaded_at

    from customer_lines

)

select * from final
