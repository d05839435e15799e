{#-
    Post-hook of customer_features: keep the cutoffs this run built (macro feature_cutoff_list) and every run's
    as_of (the dates of `as_of_dates_model`, a model with a row per customer per run date), and delete the
    rest: the training and backtest cutoffs of earlier runs. Every run rebuilds the cutoffs it trains and tests
    on, so nothing reads those again; kept, they grew the table by a run's 8 cutoffs of every customer each
    month (at 100M lines 23.8M rows at the fifth monthly run, 62M at the tenth), and everything that reads the
    whole table (publish's checksums, the ML stage's reads, tests) grew with it. The as_of cutoffs stay: they
    hold the features behind each run's published predictions. The kept set depends on the run's cutoffs and
    the set of run dates, not on the order of runs, so backfills in any order that end with the same run end
    with the same rows. A no-op until `as_of_dates_model` exists.

    Arguments:
        as_of_dates_model: relation of the runs' as_of dates, column `as_of_date` (rfm_segment_history).
-#}
{% macro drop_training_only_cutoffs(as_of_dates_model) -%}
    {%- if execute and load_relation(as_of_dates_model) is not none -%}
        delete from {{ this }}
        where cutoff_date not in ({{ feature_cutoff_literals(run_param('feature_cutoffs'), run_param('as_of')) }})
        and cutoff_date not in (select distinct as_of_date from {{ as_of_dates_model }})
    {%- endif -%}
{%- endmacro %}
