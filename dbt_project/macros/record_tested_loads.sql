{#-
    On-run-end: for every data test scoped to untested loads (macro is_scoped_to_untested_loads) that passed
    in this invocation, records every load of its model as passed, with its first `_loaded_at` (macro
    tested_loads_relation; looked up from where the test's loads can start, macro tested_loads_bound), so
    that its next run reads only the loads added since. A test that failed, errored, warned or did not run records
    nothing, and its next run reads the same loads again. The model holds the same loads as when its test
    ran: one dbt invocation writes the warehouse at a time (cltv's writer lock) and builds a model before,
    never after, its tests.

    Arguments:
        results: dbt's results of the invocation (the on-run-end context's `results`).
-#}
{% macro record_tested_loads(results) -%}
    {%- if execute -%}
        {%- set passed = [] -%}
        {%- for result in results -%}
            {%- if result.status == 'pass' and is_scoped_to_untested_loads(result.node) -%}
                {%- do passed.append(result.node) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if passed -%}
            {%- do run_query(create_tested_loads_table()) -%}
        {%- endif -%}
        {%- for test in passed -%}
            {%- set tested = graph.nodes[test.attached_node] -%}
            {%- set relation = api.Relation.create(
                database=tested.database, schema=tested.schema, identifier=tested.alias
            ) -%}
            {%- set record -%}
                insert into {{ tested_loads_relation() }}
                    (test_id, model_relation, load_id, tested_at, invocation_id, loaded_at)
                select
                    '{{ test.unique_id }}',
                    '{{ tested_loads_model_name(relation) }}',
                    _load_id,
                    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp),
                    '{{ invocation_id }}',
                    min(_loaded_at)
                from {{ relation }}
                where {{ tested_loads_bound(test.unique_id, tested) }}
                    and _load_id not in (
                        select load_id from {{ tested_loads_relation() }} where test_id = '{{ test.unique_id }}'
                    )
                group by _load_id
            {%- endset -%}
            {%- do run_query(record) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{#-
    True for a generic data test that reads only the loads it has not passed on: its `where` has the
    placeholder `__untested_loads__` (macro get_where_subquery), or it is unique_keys_of_untested_loads.

    Arguments:
        node: a test node (of the invocation's results).
-#}
{% macro is_scoped_to_untested_loads(node) -%}
    {%- set test_name = node.test_metadata.name if node.test_metadata else none -%}
    {{- return(
        node.resource_type == 'test' and node.attached_node is not none
        and ('__untested_loads__' in (node.config.where or '') or test_name == 'unique_keys_of_untested_loads')
    ) -}}
{%- endmacro %}
