-- incremental: lines are only ever added, so a pair's first day can only move earlier, to the day of a new
-- line. A run reads only the sales lines of the loads it has not read (macro is_new_load),
-- takes each of their pairs' earliest day from them and from the stored row, and replaces those pairs
-- (delete+insert on the pair's key); the other pairs are neither read nor written. A full refresh gives the
-- same table. Pairs are matched on their key (macro product_customer_key), one number instead of two texts.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='product_customer_id',
    )
}}
{%- set new_loads = is_new_load(ref('int_invoice_lines_classified')) %}

with

sales_lines as (

    select * from {{ ref('int_sales_lines') }}

),

new_customer_lines as (

    -- guests are not customers
    select * from sales_lines
    where customer_id is not null and {{ new_loads }}

),

new_pairs as (

    select
        {{ product_customer_key('stock_code', 'customer_id') }} as product_customer_id,
        stock_code,
        customer_id,
        min(invoice_date) as first_bought_date,
        max(_loaded_at) as _loaded_at,
        {{ feature_arg_max('_load_id', '_loaded_at') }} as _load_id

    from new_customer_lines
    group by stock_code, customer_id

),

{% if is_incremental() %}
stored_pairs as (

    select * from {{ this }}

),
{% endif %}

final as (

    select
        new_pairs.product_customer_id,
        new_pairs.stock_code,
        new_pairs.customer_id,
        {% if is_incremental() -%}
        case
            when stored_pairs.first_bought_date < new_pairs.first_bought_date
                then stored_pairs.first_bought_date
            else new_pairs.first_bought_date
        end as first_bought_date,
        {%- else -%}
        new_pairs.first_bought_date,
        {%- endif %}
        new_pairs._load_id,
        new_pairs._loaded_at

    from new_pairs
    {% if is_incremental() -%}
    left join stored_pairs
        on new_pairs.product_customer_id = stored_pairs.product_customer_id
    {%- endif %}

)

select * from final
