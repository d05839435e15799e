-- incremental: a run classifies only the loads it has not processed (bronze lines are hashed and ranked
-- once, not on every build); a line whose copy was kept from an earlier load is a duplicate.
{{ config(materialized='incremental', incremental_strategy='append') }}
{%- set new_loads = is_new_load(ref('stg_bronze__invoice_lines')) %}

with

-- materialized: read once, as the business key (an md5 over eight columns) is most of this model's cost
invoice_lines as materialized (

    select * from {{ ref('stg_bronze__invoice_lines') }}
    where {{ new_loads }}

),

{% if is_incremental() %}
kept_earlier as (

    -- the key includes the line's timestamp, so an earlier copy lies within the new lines' period: with the
    -- bounds as literals the scan skips every older row group (zone maps) instead of reading each stored
    -- key from disk (at 100M lines, ~1.6 GB read for a month's load)
    {%- set period = timestamp_bounds(
        'select min(invoiced_at), max(invoiced_at) from ' ~ ref('stg_bronze__invoice_lines') ~ ' where ' ~ new_loads
    ) %}
    select invoice_line_id from {{ this }}
    where not is_duplicate
        and invoiced_at between {{ period[0] }} and {{ period[1] }}
        and invoice_line_id in (select invoice_line_id from invoice_lines)

),
{% endif %}

repeated_keys as (

    -- only lines whose key occurs more than once need ranking: a few percent, not every line
    select invoice_line_id
    from invoice_lines
    group by invoice_line_id
    having count(*) > 1

),

ranked_repeats as (

    select
        invoice_line_id,
        _load_id,
        _source_sheet,
        _source_row,
        -- the first copy (earliest load, then file order) is kept; later copies are duplicates
        row_number() over (
            partition by invoice_line_id
            order by _loaded_at, _load_id, _source_file, _source_sheet, _source_row
        ) as copy_number

    from invoice_lines
    where invoice_line_id in (select invoice_line_id from repeated_keys)

),

later_copies as (

    select * from ranked_repeats
    where copy_number > 1

),

deduplicated as (

    select
        invoice_lines.*,
        later_copies.invoice_line_id is not null
        {%- if is_incremental() %} or kept_earlier.invoice_line_id is not null{% endif %} as is_duplicate

    from invoice_lines
    -- a line is identified by its load, sheet and row (the ingest numbers rows per file and sheet)
    left join later_copies
        on invoice_lines.invoice_line_id = later_copies.invoice_line_id
        and invoice_lines._load_id = later_copies._load_id
        and coalesce(invoice_lines._source_sheet, '') = coalesce(later_copies._source_sheet, '')
        and invoice_lines._source_row = later_copies._source_row
    {% if is_incremental() %}
    left join kept_earlier
        on invoice_lines.invoice_line_id = kept_earlier.invoice_line_id
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
