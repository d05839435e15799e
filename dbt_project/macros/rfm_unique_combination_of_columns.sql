{#-
    Generic test: no two rows share the same values in `combination_of_columns` (a composite key).
    Fails with one row per duplicated key.

    Arguments:
        model: the model under test (passed by dbt).
        combination_of_columns: list of column names that together identify a row.
-#}
{% test rfm_unique_combination_of_columns(model, combination_of_columns) %}

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as duplicate_rows

    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

{% endtest %}
