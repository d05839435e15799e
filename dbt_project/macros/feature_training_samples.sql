{#-
    A customer's sample bucket, 0 .. 999,999: a hash of the id, so a customer falls in the same bucket in
    every run and at every cutoff. DuckDB's `hash`; another warehouse adds its own through `adapter.dispatch`.

    Arguments:
        column: the customer id column.
-#}
{% macro customer_sample_bucket(column) -%}
    {{ return(adapter.dispatch('customer_sample_bucket', 'cltv')(column)) }}
{%- endmacro %}

{% macro default__customer_sample_bucket(column) -%}
    (hash({{ column }}) % 1000000)
{%- endmacro %}

{#-
    How customer_features samples each of the run's cutoffs (macro feature_cutoff_list), as
    `{cutoff: {'buckets': b, 'whole': w}}`:

    - `buckets`: the customers of buckets below b are the cutoff's training sample (column
      is_training_sample): every customer when the cutoff has at most `var('feature_training_sample_customers')`
      customers (b = 1,000,000), else about that many. b depends on the cutoff alone (its count of customers
      seen by then), so a cutoff gets the same sample whichever run builds it.
    - `whole`: the cutoff is built for every customer: the run's as_of (scored and published) and any earlier
      run's as_of (a date of `as_of_dates_model`), which keeps the features behind that run's predictions
      whole when a later run trains on it. Other cutoffs are built for their sample only.

    The ML stage trains and backtests on the sample alone, so what it reads of a cutoff is the same whether
    the cutoff was built whole or not: backfills in any order train the same models. Before `execute` (parse)
    every cutoff is whole.

    Arguments:
        activity_model: relation with a row per customer and active day (`customer_id`, `activity_date`).
        as_of_dates_model: relation of the runs' as_of dates, column `as_of_date` (rfm_segment_history).
-#}
{% macro feature_training_samples(activity_model, as_of_dates_model) -%}
    {%- set cutoffs = feature_cutoff_list(run_param('feature_cutoffs'), run_param('as_of')) -%}
    {%- set all_buckets = 1000000 -%}
    {%- set samples = {} -%}
    {%- for cutoff in cutoffs -%}
        {%- do samples.update({cutoff: {'buckets': all_buckets, 'whole': true}}) -%}
    {%- endfor -%}
    {%- if not execute or load_relation(activity_model) is none -%}
        {{ return(samples) }}
    {%- endif -%}
    {%- set run_dates = load_relation(as_of_dates_model) -%}
    {%- set counts_query -%}
        with

        first_seen as (
            select customer_id, min(activity_date) as first_activity_date
            from {{ activity_model }}
            group by customer_id
        ),

        cutoffs as (
            {{ feature_cutoff_dates(run_param('feature_cutoffs'), run_param('as_of')) }}
        )

        select
            cast(cutoffs.cutoff_date as varchar) as cutoff_date,
            count(first_seen.customer_id) as customers,
            {% if run_dates is not none -%}
            cutoffs.cutoff_date in (select as_of_date from {{ run_dates }}) as is_run_date
            {%- else -%}
            false as is_run_date
            {%- endif %}
        from cutoffs
        left join first_seen on first_seen.first_activity_date <= cutoffs.cutoff_date
        group by cutoffs.cutoff_date
    {%- endset -%}
    {%- set cap = var('feature_training_sample_customers') | int -%}
    {%- for row in run_query(counts_query).rows -%}
        {%- set customers = row[1] | int -%}
        {%- set buckets = all_buckets if customers <= cap else (all_buckets * cap) // customers -%}
        {%- do samples.update({
            row[0]: {'buckets': buckets, 'whole': row[0] == (run_param('as_of') | string) or row[2]}
        }) -%}
    {%- endfor -%}
    {{ return(samples) }}
{%- endmacro %}
