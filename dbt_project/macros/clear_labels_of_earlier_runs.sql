{#-
    Post-hook of customer_features, after drop_training_only_cutoffs: the rows left outside this run's cutoffs
    are earlier runs' as_of cutoffs, and each goes back to how its own run built it, without labels (a label
    window that ends after a run's as_of is not that run's to see). A later run whose training cutoff falls
    on an earlier as_of (as_of dates a whole number of horizons apart: 03-31 and 06-29 with H = 90) labels
    that cutoff while it is its own; without this, the label then stayed or not depending on which of the
    two ran last, so backfills of the same months in different orders ended with different rows. Nothing
    reads those labels: a run reads only the cutoffs it rebuilt. A no-op in a forward run (the rows outside
    its cutoffs are earlier as_of rows, already unlabelled).
-#}
{% macro clear_labels_of_earlier_runs() -%}
    {%- if execute -%}
        update {{ this }}
        set label_revenue = null, label_orders = null
        where cutoff_date not in ({{ feature_cutoff_literals(run_param('feature_cutoffs'), run_param('as_of')) }})
        and (label_revenue is not null or label_orders is not null)
    {%- endif -%}
{%- endmacro %}
