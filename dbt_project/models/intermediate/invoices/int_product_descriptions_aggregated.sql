-- incremental: a run appends one row per product and description for each load it has not read (macro
-- is_new_load: the loads stamped from its latest `_loaded_at` on that it holds no row of), so every sales
-- line is counted once, in the run that reads its load, and dim_product sums these rows instead of reading
-- every sales line. A full refresh gives the same table.
{{ config(materialized='incremental', incremental_strategy='append') }}

with

new_sales_lines as (

    select * from {{ ref('int_sales_lines') }}
    where {{ is_new_load(ref('int_sales_lines')) }}

),

final as (

    select
        stock_code,
        description,
        _load_id,
        count(*) as line_count,
        min(unit_price) as min_unit_price,
        max(unit_price) as max_unit_price,
        sum(unit_price) as unit_price_sum,
        min(invoiced_at) as first_sold_at,
        max(invoiced_at) as last_sold_at,
        max(_loaded_at) as _loaded_at

    from new_sales_lines
    group by stock_code, description, _load_id

)

select * from final
