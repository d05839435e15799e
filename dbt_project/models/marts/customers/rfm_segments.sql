with

segment_history as (

    select * from {{ ref('rfm_segment_history') }}

),

final as (

    select * from segment_history
    where as_of_date = {{ as_of_date() }}

)

select * from final
