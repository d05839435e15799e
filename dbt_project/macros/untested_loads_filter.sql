{#-
    Filter for a data test on an incremental model whose new loads are appended (or replaced) as whole loads:
    on an incremental run, true for the rows of the loads this test has not yet passed on (macro
    tested_loads_relation): the loads this run wrote, and any earlier load whose test failed or did not run,
    so a failed test keeps failing on a retry instead of passing on an empty scope. `true` (every row) on a
    full refresh, when the test has passed on no load yet (a first build, or a model rebuilt from scratch:
    macro forget_tested_loads), and when the var `test_every_load` is true (an audit of the whole table).
    Like is_new_load, the untested loads are looked up first (from where they can start, macro
    tested_loads_bound) and written into the SQL as literals (macro loads_filter), so the database skips
    the other loads' row groups.

    Called in a data test's context (it reads the test's `unique_id`): by get_where_subquery for the
    placeholder `__untested_loads__` in a test's `where`, and by tests that need it, e.g.
    unique_keys_of_untested_loads.

    Arguments:
        relation: the model under test (or a subquery on it); it has `_load_id` and `_loaded_at` columns.
-#}
{% macro untested_loads_filter(relation) -%}
    {%- if not execute or flags.FULL_REFRESH or var('test_every_load', false) -%}
        true
    {%- elif load_relation(tested_loads_relation()) is none -%}
        true
    {%- else -%}
        {%- set tested_loads -%}
            select load_id from {{ tested_loads_relation() }} where test_id = '{{ model.unique_id }}'
        {%- endset -%}
        {%- set untested_loads -%}
            select _load_id, min(_loaded_at)
            from {{ relation }}
            where {{ tested_loads_bound(model.unique_id, graph.nodes[model.attached_node]) }}
                and _load_id not in ({{ tested_loads }})
            group by _load_id
            order by 1
        {%- endset -%}
        {%- if run_query('select count(*) from (' ~ tested_loads ~ ')').columns[0].values()[0] == 0 -%}
            true
        {%- else -%}
            {{- loads_filter(run_query(untested_loads)) -}}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
