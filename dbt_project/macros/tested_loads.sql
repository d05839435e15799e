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
        invocation_id varchar not null
    )
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
