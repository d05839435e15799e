with

invoice_lines as (

    select * from {{ ref('fct_invoices') }}

),

minutes as (

    select distinct {{ dbt.date_trunc('minute', 'invoiced_at') }} as datetime_at
    from invoice_lines

),

final as (

    select
        {{ datetime_id('datetime_at') }} as datetime_id,
        datetime_at,
        cast(datetime_at as date) as calendar_date,
        cast(extract(year from datetime_at) as integer) as calendar_year,
        cast(extract(quarter from datetime_at) as integer) as calendar_quarter,
        cast(extract(month from datetime_at) as integer) as calendar_month,
        cast({{ dbt.date_trunc('month', 'datetime_at') }} as date) as month_start_date,
        cast(extract(day from datetime_at) as integer) as day_of_month,
        {{ day_of_week('datetime_at') }} as day_of_week,
        {{ day_of_week('datetime_at') }} >= 6 as is_weekend,
        cast(extract(hour from datetime_at) as integer) as hour_of_day,
        cast(extract(minute from datetime_at) as integer) as minute_of_hour

    from minutes

)

select * from final
