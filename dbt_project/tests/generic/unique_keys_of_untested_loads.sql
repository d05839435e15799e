{#-
    Generic test: `unique` for an append-only incremental model, reading the whole key column only where
    it must. On an incremental run, every key of the rows of loads this test has not passed on (macro
    untested_loads_filter) must occur once among all rows: the rows it passed on before were unique among
    themselves, and are neither changed nor deleted by an append, so a duplicate now has at least one row
    in an untested load, and it is found whether its other copy is old or new. One semi-join of the key
    column on the new keys, instead of grouping every key. On a full refresh or first build, plain `unique`
    over every row. Fails with one row per duplicated key, as `unique` does.

    When the key determines another column that stored rows are ordered by (`determines`: the line key is
    a hash of the line's columns, its time among them), an old copy of a new key has the same value of it,
    so only the rows between the untested rows' least and greatest value can hold one: written into the SQL
    as literals (macro timestamp_bounds), the bounds let the search for an old copy skip every other row
    group (zone maps). At 100M lines that is a month's row groups instead of 1.6 GB of keys.

    Arguments:
        model: the model under test (given by dbt; with the test's `where`, if any).
        column_name: the key column.
        determines: optional, a timestamp column whose value equal keys share (e.g. `invoiced_at`).
-#}
{% test unique_keys_of_untested_loads(model, column_name, determines=none) %}

{%- set untested_loads = untested_loads_filter(model) | trim %}
{%- set scoped = untested_loads != 'true' %}
{%- if scoped and determines %}
    {%- set bounds = timestamp_bounds(
        'select min(' ~ determines ~ '), max(' ~ determines ~ ') from ' ~ model ~ ' where ' ~ untested_loads
    ) %}
{%- endif %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records

from {{ model }}
where {{ column_name }} is not null
{%- if scoped %}
    {%- if determines %}
    and {{ determines }} between {{ bounds[0] }} and {{ bounds[1] }}
    {%- endif %}
    and {{ column_name }} in (
        select {{ column_name }} from {{ model }}
        where {{ untested_loads }}
        {%- if determines %} and {{ determines }} between {{ bounds[0] }} and {{ bounds[1] }}{% endif %}
    )
{%- endif %}
group by {{ column_name }}
having count(*) > 1

{% endtest %}
