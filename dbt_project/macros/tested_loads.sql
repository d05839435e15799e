{#-
    The record of which loads' rows have passed which data test: one row per (test, load), in the target
    schema (not silver or gold: it is the tests' bookkeeping, not data). Tests scoped to untested loads
    (macro untested_loads_filter) read only the rows of loads not recorded for them; on-run-end (macro
    record_tested_loads) adds the loads a test has just passed on; a model rebuilt from scratch forgets its
    loads (macro forget_tested_loads), so its next tests read every row again.

    Arguments: none.
-#}
{% macro tested_loads_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema, identifier='dbt_tested_loads')) }}
{%- endmacro %}


{#- `create table if not exists` of the record (macro tested_loads_relation). -#}
{% macro create_tested_loads_table() -%}
    create table if not exists {{ tested_loads_relation() }} (
        test_id varchar not null,
        model_relation varchar not null,
        load_id varchar not null,
        tested_at timestamp not null,
        invocation_id varchar not null,
        loaded_at timestamp  -- the load's first `_loaded_at` in the model; null in records of an older cltv
    )
{%- endmacro %}


{#-
    On-run-start: a record made by an older cltv gets the `loaded_at` column (empty: those tests look at every
    row's load once more, then record stamps). A no-op when there is no record or it has the column.

    Arguments: none.
-#}
{% macro migrate_tested_loads() -%}
    {%- if execute -%}
        {%- set record = tested_loads_relation() -%}
        {%- set columns -%}
            select column_name from information_schema.columns
            where table_catalog = '{{ record.database }}' and table_schema = '{{ record.schema }}'
                and table_name = '{{ record.identifier }}'
        {%- endset -%}
        {%- set names = run_query(columns).columns[0].values() -%}
        {%- if names and 'loaded_at' not in names -%}
            {%- do run_query('alter table ' ~ record ~ ' add column loaded_at timestamp') -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{#-
    SQL: where the loads a data test has not passed on can start, as a filter on the rows of the model it
    tests. For a model that only appends whole loads (config `meta: {appends_whole_loads: true}`: its runs
    add the rows of loads stamped from its high-water mark on, macro is_new_load, and never rewrite a row),
    every load it took since the test last passed is stamped at or after the loads the test passed on:
    `_loaded_at >= <the latest stamp the record holds for the test>`, written as a literal so that the
    lookup of the test's loads (macro untested_loads_filter) and their record (macro record_tested_loads)
    skip the older loads' row groups (at 100M lines 0.2-0.4 s -> a few ms a test). `true` (every row's load
    is looked at) for other models, and while the record holds no stamp for the test.

    Arguments:
        test_id: the test's unique_id.
        tested_node: the graph node of the model under test.
-#}
{% macro tested_loads_bound(test_id, tested_node) -%}
    {%- if not (tested_node.config.meta or {}).get('appends_whole_loads', false) -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set latest -%}
        select max(loaded_at) from {{ tested_loads_relation() }} where test_id = '{{ test_id }}'
    {%- endset -%}
    {%- set mark = run_query(latest).columns[0].values()[0] -%}
    {{ return('true' if mark is none else "_loaded_at >= cast('" ~ mark ~ "' as timestamp)") }}
{%- endmacro %}


{#-
    The `schema.table` name the record keeps for a model: without the database, so that a copy of the
    warehouse file under another name keeps its record.

    Arguments:
        relation: the model's relation.
-#}
{% macro tested_loads_model_name(relation) -%}
    {{ relation.schema }}.{{ relation.identifier }}
{%- endmacro %}
