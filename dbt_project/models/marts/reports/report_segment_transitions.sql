with

segment_history as (

    select * from {{ ref('rfm_segment_history') }}

),

run_dates as (

    select {{ as_of_date() }} as as_of_date

),

previous_run_dates as (

    select max(segment_history.as_of_date) as previous_as_of_date

    from segment_history
    inner join run_dates
        on segment_history.as_of_date < run_dates.as_of_date

),

current_segments as (

    select
        segment_history.customer_id,
        segment_history.segment,
        segment_history.value_tier

    from segment_history
    inner join run_dates
        on segment_history.as_of_date = run_dates.as_of_date

),

previous_segments as (

    select
        segment_history.customer_id,
        segment_history.segment,
        segment_history.value_tier

    from segment_history
    inner join previous_run_dates
        on segment_history.as_of_date = previous_run_dates.previous_as_of_date

),

customer_moves as (

    select
        coalesce(previous_segments.segment, 'new') as from_segment,
        coalesce(previous_segments.value_tier, 'new') as from_value_tier,
        coalesce(current_segments.segment, 'gone') as to_segment,
        coalesce(current_segments.value_tier, 'gone') as to_value_tier

    from current_segments
    full outer join previous_segments
        on current_segments.customer_id = previous_segments.customer_id

),

moves_counted as (

    select
        from_segment,
        from_value_tier,
        to_segment,
        to_value_tier,
        count(*) as customers

    from customer_moves
    group by from_segment, from_value_tier, to_segment, to_value_tier

),

final as (

    select
        run_dates.as_of_date,
        previous_run_dates.previous_as_of_date,
        moves_counted.from_segment,
        moves_counted.from_value_tier,
        moves_counted.to_segment,
        moves_counted.to_value_tier,
        moves_counted.customers,
        cast(moves_counted.customers as double precision) / sum(moves_counted.customers) over (
            partition by moves_counted.from_segment, moves_counted.from_value_tier
        ) as share_of_from,
        cast(moves_counted.customers as double precision) / sum(moves_counted.customers) over ()
            as share_of_customers,
        moves_counted.from_segment != moves_counted.to_segment as is_segment_change,
        moves_counted.from_value_tier != moves_counted.to_value_tier as is_value_tier_change

    from moves_counted
    cross join run_dates
    cross join previous_run_dates

)

select * from final
