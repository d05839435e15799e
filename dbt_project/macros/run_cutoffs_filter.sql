{#-
    Filter for a data test on a model rebuilt by cutoff (delete+insert on `cutoff_date`, as customer_features):
    the rows of this run's cutoffs (macro feature_cutoff_list), the only rows the run wrote. The other
    cutoffs' rows are left as the run that built them tested them. `true` (every row) when the var
    `test_every_load` is true (an audit of the whole table). Written as literals, so the scan skips the other
    cutoffs' row groups: at 100M lines the uniqueness of (customer_id, cutoff_date) over all 28M feature rows
    took 6 s of every monthly run, growing with each month; the run's own 8 cutoffs are 6M rows.

    Used through the placeholder `__run_cutoffs__` in a test's `where` (macro get_where_subquery).

    Arguments:
        column: the model's cutoff date column.
-#}
{% macro run_cutoffs_filter(column='cutoff_date') -%}
    {%- if var('test_every_load', false) -%}
        true
    {%- else -%}
        {{ column }} in ({{ feature_cutoff_literals(run_param('feature_cutoffs'), run_param('as_of')) }})
    {%- endif -%}
{%- endmacro %}
