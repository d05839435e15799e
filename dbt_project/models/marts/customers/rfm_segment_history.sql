-- Incremental: every run adds the RFM segments of its as_of date and keeps earlier dates' rows (the history that
-- segment transitions are read from); delete+insert on as_of_date makes a re-run replace that date's rows.
-- A full refresh (after withdrawing a bad load) rebuilds the run's own date and keeps the history: earlier
-- dates are what marketing saw then, and no run could rebuild them all.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
        on_schema_change='fail',
        full_refresh=false,
    )
}}

with

activity_days as (

    select * from {{ ref('customer_activity_days') }}

),

run_dates as (

    select {{ as_of_date() }} as as_of_date

),

activity_aggregated_to_customers as (

    select
        activity_days.customer_id,
        run_dates.as_of_date,
        max(case when activity_days.is_purchase_day then activity_days.activity_date end) as last_purchase_date,
        sum(activity_days.orders) as frequency,
        sum(activity_days.net_revenue) as monetary,
        sum(activity_days.purchase_revenue) as purchase_revenue,
        sum(activity_days.purchase_items) as purchase_items

    from activity_days
    inner join run_dates
        on activity_days.activity_date <= run_dates.as_of_date
    group by activity_days.customer_id, run_dates.as_of_date
    having sum(activity_days.orders) > 0

),

recency_computed as (

    select
        *,
        {{ dbt.datediff('last_purchase_date', 'as_of_date', 'day') }} as recency_days

    from activity_aggregated_to_customers

),

scored as (

    select
        *,
        {{ rfm_score('recency_days desc') }} as recency_score,
        {{ rfm_score('frequency') }} as frequency_score,
        {{ rfm_score('monetary') }} as monetary_score

    from recency_computed

),

final as (

    select
        customer_id,
        as_of_date,
        last_purchase_date,
        cast(recency_days as integer) as recency_days,
        cast(frequency as integer) as frequency,
        cast(monetary as decimal(18, 3)) as monetary,
        cast(purchase_revenue / frequency as decimal(18, 3)) as basket_value_mean,
        cast(purchase_items as double precision) / frequency as basket_items_mean,
        cast(recency_score as integer) as recency_score,
        cast(frequency_score as integer) as frequency_score,
        cast(monetary_score as integer) as monetary_score,
        cast(recency_score as {{ dbt.type_string() }}) || cast(frequency_score as {{ dbt.type_string() }}) || cast(monetary_score as {{ dbt.type_string() }})
            as rfm_cell,
        {{ rfm_segment_name('recency_score', 'frequency_score') }} as segment,
        {{ rfm_value_tier('monetary_score') }} as value_tier

    from scored

)

select * from final
