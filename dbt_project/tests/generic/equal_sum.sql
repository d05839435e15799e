{#-
    Generic test: the sum of a column equals the sum of a column of another model (to the last decimal),
    optionally each side filtered. Fails with one row showing both sums when they differ.

    Arguments:
        model: the model under test (given by dbt).
        column_name: the column summed on the model under test.
        to: the other model, e.g. ref('fct_invoices').
        field: the column summed on the other model.
        model_filter: optional SQL condition applied to the model under test.
        to_filter: optional SQL condition applied to the other model.
-#}
{% test equal_sum(model, column_name, to, field, model_filter=none, to_filter=none) %}

with

tested as (

    select coalesce(sum({{ column_name }}), 0) as total
    from {{ model }}
    {% if model_filter %}where {{ model_filter }}{% endif %}

),

compared as (

    select coalesce(sum({{ field }}), 0) as total
    from {{ to }}
    {% if to_filter %}where {{ to_filter }}{% endif %}

)

select
    tested.total as tested_total,
    compared.total as compared_total

from tested
cross join compared
where tested.total <> compared.total

{% endtest %}
