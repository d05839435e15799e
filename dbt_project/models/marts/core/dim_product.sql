-- From the per-load rollup of the sales lines (int_product_descriptions_aggregated), a few hundred thousand
-- rows instead of every sales line; the same figures as over the lines.
with

product_descriptions as (

    select * from {{ ref('int_product_descriptions_aggregated') }}

),

descriptions_ranked as (

    -- the most frequent description; ties go to the most recent, then alphabetical
    select
        stock_code,
        description,
        row_number() over (
            partition by stock_code
            order by sum(line_count) desc, max(last_sold_at) desc, description
        ) as description_rank

    from product_descriptions
    where description is not null
        and description <> ''
    group by stock_code, description

),

main_description as (

    select
        stock_code,
        description

    from descriptions_ranked
    where description_rank = 1

),

product_totals as (

    select
        stock_code,
        cast(sum(line_count) as bigint) as line_count,
        min(min_unit_price) as min_unit_price,
        max(max_unit_price) as max_unit_price,
        -- the mean over the lines, as avg(unit_price) over them gives it
        cast(cast(sum(unit_price_sum) as double) / sum(line_count) as decimal(18, 3)) as avg_unit_price,
        min(first_sold_at) as first_sold_at,
        max(last_sold_at) as last_sold_at

    from product_descriptions
    group by stock_code

),

final as (

    select
        {{ dbt.hash('product_totals.stock_code') }} as product_id,
        product_totals.stock_code,
        main_description.description,
        product_totals.line_count,
        product_totals.min_unit_price,
        product_totals.max_unit_price,
        product_totals.avg_unit_price,
        product_totals.first_sold_at,
        product_totals.last_sold_at

    from product_totals
    left join main_description
        on product_totals.stock_code = main_description.stock_code

)

select * from final
