{#-
    Generic test: a boolean SQL expression holds on every row of the model; the failing rows are returned.

    Arguments:
        model: the model under test (given by dbt).
        expression: a SQL condition over the model's columns, e.g. "revenue = quantity * unit_price".
-#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
