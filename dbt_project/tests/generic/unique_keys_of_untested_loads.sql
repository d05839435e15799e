{#-
    Generic test: `unique` for an append-only incremental model, reading the whole key column only where
    it must. On an incremental run, every key of the rows of loads this test has not passed on (macro
    untested_loads_filter) must occur once among all rows: the rows it passed on before were unique among
    themselves, and are neither changed nor deleted by an append, so a duplicate now has at least one row
    in an untested load, and it is found whether its other copy is old or new. One semi-join of the key
    column on the new keys, instead of grouping every key. On a full refresh or first build, plain `unique`
    over every row. Fails with one row per duplicated key, as `unique` does.

    Arguments:
        model: the model under test (given by dbt; with the test's `where`, if any).
        column_name: the key column.
-#}
{% test unique_keys_of_untested_loads(model, column_name) %}

{%- set untested_loads = untested_loads_filter(model) | trim %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records

from {{ model }}
where {{ column_name }} is not null
{%- if untested_loads != 'true' %}
    and {{ column_name }} in (select {{ column_name }} from {{ model }} where {{ untested_loads }})
{%- endif %}
group by {{ column_name }}
having count(*) > 1

{% endtest %}
