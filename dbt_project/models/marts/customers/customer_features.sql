-- Incremental: a run (re)builds only its own cutoffs' rows (delete+insert on cutoff_date replaces a cutoff that is
-- built again) and keeps every run's as_of cutoff, as that run built it (unlabelled: macro
-- clear_labels_of_earlier_runs); the training and backtest cutoffs of earlier runs are dropped (post-hook,
-- macro drop_training_only_cutoffs: every run rebuilds the ones it reads).
-- A new feature column is appended to an existing table: every run rebuilds all the cutoffs it reads, so
-- older rows left null are never trained or scored on.
-- Training and backtest cutoffs hold a sample of customers when they have more than
-- `feature_training_sample_customers` (the ML stage reads no more); as_of cutoffs hold every customer (macro
-- feature_training_samples).
-- depends_on: {{ ref('rfm_segment_history') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='cutoff_date',
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ drop_training_only_cutoffs(ref('rfm_segment_history')) }}",
            "{{ clear_labels_of_earlier_runs() }}",
        ],
    )
}}

{%- set samples = feature_training_samples(ref('customer_activity_days'), ref('rfm_segment_history')) -%}
{%- set whole_cutoffs, sampled_cutoffs, batches = [], [], [] -%}
{%- for cutoff, sample in samples | dictsort -%}
    {%- do (whole_cutoffs if sample.whole else sampled_cutoffs).append(cutoff) -%}
{%- endfor -%}
{%- set per_aggregate = {
    false: var('feature_cutoffs_per_aggregate'), true: var('feature_sampled_cutoffs_per_aggregate')
} -%}
{%- for cutoffs, is_sampled in [(whole_cutoffs, false), (sampled_cutoffs, true)] if cutoffs -%}
    {%- for cutoff_batch in feature_cutoff_batches(cutoffs, run_param('as_of'), per_aggregate[is_sampled]) -%}
        {%- do batches.append((cutoff_batch, is_sampled)) -%}
    {%- endfor -%}
{%- endfor -%}

with

activity_days as (

    select * from {{ ref('customer_activity_days') }}

),

bucketed_activity_days as (

    select
        activity_days.*,
        {{ customer_sample_bucket('activity_days.customer_id') }} as sample_bucket

    from activity_days

),

cutoffs as (

    {{ feature_cutoff_dates(run_param('feature_cutoffs'), run_param('as_of')) }}

),

history as (

    select min(activity_date) as history_start_date from activity_days

),

cutoff_windows as (

    select
        cutoff_date,
        -- per window of N days: its first day (c-N+1), and the first day of the N days before it (c-2N+1),
        -- which its trend compares with
        {% for days in [30, 90, 180, 365] -%}
        cast({{ dbt.dateadd('day', 1 - days, 'cutoff_date') }} as date) as window_{{ days }}d_start_date,
        cast({{ dbt.dateadd('day', 1 - 2 * days, 'cutoff_date') }} as date) as prior_{{ days }}d_start_date,
        {% endfor -%}
        cast({{ dbt.dateadd('day', run_param('horizon_days'), 'cutoff_date') }} as date) as label_end_date,
        cast({{ dbt.dateadd('day', run_param('horizon_days'), 'cutoff_date') }} as date)
        <= {{ as_of_date() }} as is_label_covered,
        -- the label window's season one year earlier: (c - 1 year, c - 1 year + H], never past the cutoff
        cast({{ dbt.dateadd('year', -1, 'cutoff_date') }} as date) as last_year_window_after_date,
        cast(
            {{ dbt.dateadd('day', [run_param('horizon_days') | int, 365] | min, dbt.dateadd('year', -1, 'cutoff_date')) }}
            as date
        ) as last_year_window_end_date,
        -- observed only when the warehouse's history reaches back to the window's first day
        history.history_start_date
        <= cast({{ dbt.dateadd('day', 1, dbt.dateadd('year', -1, 'cutoff_date')) }} as date)
            as is_last_year_window_observed,
        -- customers of lower sample buckets are the cutoff's training sample
        case cutoff_date
            {% for cutoff, sample in samples | dictsort -%}
            when cast('{{ cutoff }}' as date) then {{ sample.buckets }}
            {% endfor -%}
        end as training_sample_buckets

    from cutoffs
    cross join history

),

activity_before_cutoffs as (

    -- one aggregate per batch of a few cutoffs, their union the same rows: a hash table of every customer at
    -- every cutoff at once (x ~40 aggregates) outgrows the memory limit at scale and spills (macro
    -- feature_cutoff_batches). A batch of sampled cutoffs reads its sample's days only.
    {% for cutoff_batch, is_sampled in batches -%}
    select
        activity_days.customer_id,
        cutoff_windows.cutoff_date,
        {{ feature_arg_max('activity_days.country', 'activity_days.activity_date') }} as country,
        min(case when activity_days.is_purchase_day then activity_days.activity_date end) as first_purchase_date,
        max(case when activity_days.is_purchase_day then activity_days.activity_date end) as last_purchase_date,
        min(activity_days.activity_date) as first_activity_date,
        max(activity_days.activity_date) as last_activity_date,
        sum(case when activity_days.is_purchase_day then 1 else 0 end) as purchase_days,
        sum(activity_days.orders) as frequency,
        sum(activity_days.net_revenue) as monetary,
        -- inter-purchase times as exact integer sums, not avg() and stddev_pop(): a parallel aggregate adds
        -- floating-point values in whatever order its threads meet them, and a re-run must give the same bits
        count(activity_days.days_since_previous_purchase) as ipt_count,
        sum(activity_days.days_since_previous_purchase) as ipt_sum_days,
        sum(
            cast(activity_days.days_since_previous_purchase as bigint) * activity_days.days_since_previous_purchase
        ) as ipt_sum_squared_days,
        {% for days in [30, 90, 180, 365] -%}
        {% for measure, name in [('net_revenue', 'revenue'), ('orders', 'orders')] -%}
        sum(
            case
                when activity_days.activity_date >= cutoff_windows.window_{{ days }}d_start_date
                    then activity_days.{{ measure }}
                else 0
            end
        ) as {{ name }}_{{ days }}d,
        sum(
            case
                when
                    activity_days.activity_date >= cutoff_windows.prior_{{ days }}d_start_date
                    and activity_days.activity_date < cutoff_windows.window_{{ days }}d_start_date
                    then activity_days.{{ measure }}
                else 0
            end
        ) as {{ name }}_prior_{{ days }}d,
        {% endfor -%}
        {% endfor -%}
        {% for measure, name in [('net_revenue', 'revenue'), ('orders', 'orders')] -%}
        sum(
            case
                when
                    activity_days.activity_date > cutoff_windows.last_year_window_after_date
                    and activity_days.activity_date <= cutoff_windows.last_year_window_end_date
                    then activity_days.{{ measure }}
                else 0
            end
        ) as {{ name }}_last_year_window,
        {% endfor -%}
        sum(activity_days.purchase_revenue) as purchase_revenue,
        sum(activity_days.returned_revenue) as returned_revenue,
        sum(activity_days.purchase_items) as purchase_items,
        max(activity_days.max_basket_value) as basket_value_max,
        sum(activity_days.new_products) as distinct_products,
        sum(
            case
                when extract(month from activity_days.activity_date) in (11, 12)
                    then activity_days.purchase_revenue
                else 0
            end
        ) as seasonal_purchase_revenue

    {% if is_sampled -%}
    {%- set batch_buckets = [] -%}
    {%- for cutoff in cutoff_batch -%}{%- do batch_buckets.append(samples[cutoff].buckets) -%}{%- endfor -%}
    from (
        select * from bucketed_activity_days where sample_bucket < {{ batch_buckets | max }}
    ) as activity_days
    {%- else -%}
    from activity_days
    {%- endif %}
    inner join cutoff_windows
        on
            activity_days.activity_date <= cutoff_windows.cutoff_date
            and cutoff_windows.cutoff_date in (
                {%- for cutoff in cutoff_batch -%}
                cast('{{ cutoff }}' as date){% if not loop.last %}, {% endif %}
                {%- endfor -%}
            )
            {%- if is_sampled %}
            and activity_days.sample_bucket < cutoff_windows.training_sample_buckets
            {%- endif %}
    group by activity_days.customer_id, cutoff_windows.cutoff_date
    {%- if not loop.last %}

    union all

    {% endif -%}
    {%- endfor %}

),

activity_in_label_windows as (

    select
        activity_days.customer_id,
        cutoff_windows.cutoff_date,
        sum(activity_days.net_revenue) as label_revenue,
        sum(activity_days.orders) as label_orders

    from activity_days
    inner join cutoff_windows
        on
            activity_days.activity_date > cutoff_windows.cutoff_date
            and activity_days.activity_date <= cutoff_windows.label_end_date
    where cutoff_windows.is_label_covered
    group by activity_days.customer_id, cutoff_windows.cutoff_date

),

features as (

    select
        activity_before_cutoffs.*,
        coalesce(activity_before_cutoffs.first_purchase_date, activity_before_cutoffs.first_activity_date)
            as first_seen_date,
        coalesce(activity_before_cutoffs.last_purchase_date, activity_before_cutoffs.last_activity_date)
            as last_seen_date,
        cutoff_windows.is_label_covered,
        cutoff_windows.is_last_year_window_observed,
        cutoff_windows.training_sample_buckets,
        activity_in_label_windows.label_revenue,
        activity_in_label_windows.label_orders

    from activity_before_cutoffs
    inner join cutoff_windows
        on activity_before_cutoffs.cutoff_date = cutoff_windows.cutoff_date
    left join activity_in_label_windows
        on
            activity_before_cutoffs.customer_id = activity_in_label_windows.customer_id
            and activity_before_cutoffs.cutoff_date = activity_in_label_windows.cutoff_date

),

final as (

    select
        customer_id,
        cutoff_date,
        country,
        cast({{ dbt.datediff('last_seen_date', 'cutoff_date', 'day') }} as integer) as recency_days,
        cast(frequency as integer) as frequency,
        cast(monetary as decimal(18, 3)) as monetary,
        cast({{ dbt.datediff('first_seen_date', 'cutoff_date', 'day') }} as integer) as tenure_days,
        cast(ipt_sum_days as double precision) / nullif(ipt_count, 0) as ipt_mean_days,
        -- the population standard deviation, sqrt(n * sum(x^2) - sum(x)^2) / n, from the exact sums
        sqrt(cast(ipt_count * ipt_sum_squared_days - ipt_sum_days * ipt_sum_days as double precision))
        / nullif(ipt_count, 0) as ipt_std_days,
        {% for days in [30, 90, 180, 365] -%}
        cast(revenue_{{ days }}d as decimal(18, 3)) as revenue_{{ days }}d,
        {% endfor -%}
        {% for days in [30, 90, 180, 365] -%}
        cast(orders_{{ days }}d as integer) as orders_{{ days }}d,
        {% endfor -%}
        {% for days in [30, 90, 180, 365] -%}
        cast(revenue_{{ days }}d - revenue_prior_{{ days }}d as decimal(18, 3)) as trend_revenue_{{ days }}d,
        cast(orders_{{ days }}d - orders_prior_{{ days }}d as integer) as trend_orders_{{ days }}d,
        {% endfor -%}
        cast(
            monetary / ({{ dbt.datediff('first_seen_date', 'cutoff_date', 'day') }} + 1) as decimal(18, 3)
        ) as spend_per_day,
        cast(purchase_revenue / nullif(frequency, 0) as decimal(18, 3)) as basket_value_mean,
        cast(basket_value_max as decimal(18, 3)) as basket_value_max,
        cast(purchase_items as double precision) / nullif(frequency, 0) as basket_items_mean,
        cast(distinct_products as integer) as distinct_products,
        cast(returned_revenue / nullif(purchase_revenue, 0) as double precision) as return_rate,
        cast(seasonal_purchase_revenue / nullif(purchase_revenue, 0) as double precision) as seasonal_share,
        cast(greatest(purchase_days - 1, 0) as integer) as frequency_repeat_days,
        cast({{ dbt.datediff('first_seen_date', 'last_seen_date', 'day') }} as integer) as recency_bgnbd_days,
        cast(
            case when is_last_year_window_observed then revenue_last_year_window end as decimal(18, 3)
        ) as revenue_last_year_window,
        cast(case when is_last_year_window_observed then orders_last_year_window end as integer)
            as orders_last_year_window,
        cast({{ run_param('horizon_days') }} as integer) as horizon_days,
        cast(case when is_label_covered then coalesce(label_revenue, 0) end as decimal(18, 3)) as label_revenue,
        cast(case when is_label_covered then coalesce(label_orders, 0) end as integer) as label_orders,
        {{ customer_sample_bucket('customer_id') }} < training_sample_buckets as is_training_sample

    from features

)

select * from final
