with

segments as (

    select * from {{ ref('rfm_segments') }}

),

run_dates as (

    select {{ as_of_date() }} as as_of_date

),

segments_aggregated as (

    select
        segment,
        value_tier,
        count(*) as customers,
        sum(monetary) as revenue_sum,
        avg(monetary) as revenue_mean,
        avg(basket_value_mean) as basket_value_mean,
        avg(basket_items_mean) as basket_items_mean,
        avg(recency_days) as recency_days_mean,
        avg(frequency) as frequency_mean

    from segments
    group by segment, value_tier

),

final as (

    select
        run_dates.as_of_date,
        segments_aggregated.segment,
        segments_aggregated.value_tier,
        segments_aggregated.customers,
        cast(segments_aggregated.customers as double precision)
        / sum(segments_aggregated.customers) over () as share_of_customers,
        cast(segments_aggregated.revenue_sum as decimal(18, 3)) as revenue_sum,
        cast(segments_aggregated.revenue_mean as decimal(18, 3)) as revenue_mean,
        cast(segments_aggregated.basket_value_mean as decimal(18, 3)) as basket_value_mean,
        cast(segments_aggregated.basket_items_mean as double precision) as basket_items_mean,
        cast(segments_aggregated.recency_days_mean as double precision) as recency_days_mean,
        cast(segments_aggregated.frequency_mean as double precision) as frequency_mean

    from segments_aggregated
    cross join run_dates

)

select * from final
