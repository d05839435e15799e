-- Nothing disappears silently: every bronze line is either a customer fact or an excluded line with a
-- reason, and the distinct lines (kept copies) are the facts plus the excluded first copies. Returns a
-- row when not.

with

bronze as (

    select count(*) as line_count from {{ ref('stg_bronze__invoice_lines') }}

),

facts as (

    select count(*) as line_count from {{ ref('fct_invoices') }}

),

excluded as (

    select
        count(*) as line_count,
        sum(case when exclusion_reason <> 'duplicate' then 1 else 0 end) as first_copy_count

    from {{ ref('int_invoice_lines_excluded') }}

),

deduplicated as (

    select count(*) as line_count from {{ ref('int_invoice_lines_classified') }}
    where not is_duplicate

),

final as (

    select
        bronze.line_count as bronze_lines,
        facts.line_count as fact_lines,
        excluded.line_count as excluded_lines,
        deduplicated.line_count as distinct_lines

    from bronze
    cross join facts
    cross join excluded
    cross join deduplicated
    where bronze.line_count <> facts.line_count + excluded.line_count
        or deduplicated.line_count <> facts.line_count + coalesce(excluded.first_copy_count, 0)

)

select * from final
