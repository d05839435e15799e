{#-
    For an incremental model whose rows are computed per customer from all of that customer's lines and
    invoices (customer_activity_days): a `select distinct customer_id` of the customers whose rows the
    loads the model has not read can change, so that a run recomputes those customers whole and keeps the
    others' rows as they are.

    The new loads are those after the model's high-water mark (macro is_new_load: each
    row keeps the `_loaded_at` and `_load_id` of its latest line). A new line changes its invoice's rollup
    (int_invoices_aggregated aggregates again every invoice that a new load has a line of, guest lines
    included) and, when it has a customer, that customer's lines; and as an invoice's rollup goes to the
    greatest customer id among its lines, a new line can take an invoice away from the customer who had
    it. So the touched customers are every customer with a line (old or new) on an invoice that a new load
    has a line of. Those lines lie between the first and last line time that the rollup stores for their
    invoices, written into the SQL as literals (macro timestamp_bounds) so that the scan of the lines skips
    the other row groups. No customer when there is no new load; every customer with a line while the model
    has no high-water mark (macro has_high_water_mark).

    Arguments:
        lines: every line of every load (int_invoice_lines_classified), with `invoice_no` and `_load_id`,
            `_loaded_at`, as macro is_new_load reads them.
        invoices: the invoice rollup (int_invoices_aggregated), with `invoice_no`, `first_invoiced_at` and
            `last_invoiced_at`.
        customer_lines: the customers' lines (fct_invoices), with `invoice_no`, `customer_id` and
            `invoiced_at`.
-#}
{% macro customers_touched_by_new_loads(lines, invoices, customer_lines) -%}
    {%- set new_loads = is_new_load(lines) if has_high_water_mark(this) else 'true' -%}
    {%- set new_load_invoices -%}
        select invoice_no from {{ lines }} where {{ new_loads }}
    {%- endset -%}
    {%- set period = timestamp_bounds(
        'select min(first_invoiced_at), max(last_invoiced_at) from ' ~ invoices
        ~ ' where invoice_no in (' ~ new_load_invoices ~ ')'
    ) -%}
    select distinct customer_id
    from {{ customer_lines }}
    where invoiced_at between {{ period[0] }} and {{ period[1] }}
        and invoice_no in ({{ new_load_invoices }})
{%- endmacro %}


{#-
    Pre-hook of customer_activity_days (incremental): deletes the rows of the customers that the run
    recomputes (macro customers_touched_by_new_loads), so that the model can append their new rows. Deleting
    by that list, rather than by the customers in the new rows (delete+insert), also removes the rows of a
    customer who is left with no day (every invoice of theirs went to another customer). Deletes every row
    while the model has no high-water mark (built before it was incremental: the run recomputes everyone).
    A no-op on a first build or a full refresh. It runs in the model's transaction: if the build fails, the
    rows are kept.

    Arguments: as customers_touched_by_new_loads.
-#}
{% macro delete_rows_of_touched_customers(lines, invoices, customer_lines) -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        {%- if has_high_water_mark(this) %}
        where customer_id in ({{ customers_touched_by_new_loads(lines, invoices, customer_lines) }})
        {%- endif %}
    {%- endif -%}
{%- endmacro %}


{#-
    True when the relation has the `_loaded_at` column that an incremental model's high-water mark is read
    from (macro is_new_load); false for a table built before its model kept one.

    Arguments:
        relation: the model's relation (`this`).
-#}
{% macro has_high_water_mark(relation) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') -%}
    {{ return('_loaded_at' in columns | list) }}
{%- endmacro %}
