-- incremental: a run classifies only the loads it has not processed (bronze lines are hashed and ranked
-- once, not on every build); a line whose copy was kept from an earlier load is a duplicate.
{{ config(materialized='incremental', incremental_strategy='append') }}

with

invoice_lines as (

    select * from {{ ref('stg_bronze__invoice_lines') }}
    where {{ is_new_load(ref('stg_bronze__invoice_lines')) }}

),

{% if is_incremental() %}
kept_earlier as (

    select invoice_line_id from {{ this }}
    where not is_duplicate
        and invoice_line_id in (select invoice_line_id from invoice_lines)

),
{% endif %}

ranked as (

    select
        *,
        -- the first copy (earliest load, then file order) is kept; later copies are duplicates
        row_number() over (
            partition by invoice_line_id
            order by _loaded_at, _load_id, _source_file, _source_sheet, _source_row
        ) as copy_number

    from invoice_lines

),

deduplicated as (

    select
        ranked.*,
        {% if is_incremental() %}
        ranked.copy_number > 1 or kept_earlier.invoice_line_id is not null as is_duplicate
        {% else %}
        ranked.copy_number > 1 as is_duplicate
        {% endif %}

    from ranked
    {% if is_incremental() %}
    left join kept_earlier
        on ranked.invoice_line_id = kept_earlier.invoice_line_id
    {% endif %}

),

classified as (

    select
        *,
        case
            when is_duplicate then 'duplicate'
            when is_missing_customer then 'missing_customer'
            when is_non_product then 'non_product'
            when is_invalid_price then 'invalid_price'
        end as exclusion_reason

    from deduplicated

),

final as (

    select
        invoice_line_id,
        invoice_no,
        stock_code,
        description,
        quantity,
        invoiced_at,
        invoice_date,
        unit_price,
        customer_id,
        country,
        revenue,
        is_cancellation,
        is_missing_customer,
        is_non_product,
        is_invalid_price,
        is_duplicate,
        exclusion_reason,
        _source_file,
        _source_sheet,
        _source_row,
        _load_id,
        _loaded_at

    from classified

)

select * from final
