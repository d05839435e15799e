with

sales_lines as (

    select * from {{ ref('int_sales_lines') }}

),

descriptions_ranked as (

    -- the most frequent description; ties go to the most recent, then alphabetical
    select
        stock_code,
        description,
        row_number() over (
            partition by stock_code
            order by count(*) desc, max(invoiced_at) desc, description
        ) as description_rank

    from sales_lines
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
        count(*) as line_count,
        min(unit_price) as min_unit_price,
        max(unit_price) as max_unit_price,
        cast(avg(unit_price) as decimal(18, 3)) as avg_unit_price,
        min(invoiced_at) as first_sold_at,
        max(invoiced_at) as last_sold_at

    from sales_lines
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
