{#-
    Filter for an incremental model: in an incremental run, true for the rows of loads (`_load_id`) that the
    model being built does not hold yet; in a full build, true for every row. Loads are appended to bronze
    whole (one transaction per file), so "a load id not in this table" is exactly "a load not processed
    yet". The new load ids, and the first `_loaded_at` among their rows, are looked up first (a cheap scan
    of two columns) and written into the SQL as literals (macro loads_filter), so the database filters the
    input's scan itself instead of cleaning, hashing and then discarding every old row. A load that left no
    row in the model (e.g. only duplicates) is looked at again on the next run and again adds nothing.

    Arguments:
        relation: the model's input, e.g. ref('stg_bronze__invoice_lines'); it has `_load_id` and
            `_loaded_at` columns.
-#}
{% macro is_new_load(relation) -%}
    {%- if is_incremental() and execute -%}
        {#- the input's few loads first, then the anti-join: not one per row (at 100M lines 0.9 -> 0.5 s) -#}
        {%- set new_loads_query -%}
            select _load_id, first_loaded_at
            from (
                select _load_id, min(_loaded_at) as first_loaded_at from {{ relation }} group by _load_id
            ) as loads
            where _load_id not in (select distinct _load_id from {{ this }})
            order by 1
        {%- endset -%}
        {{- loads_filter(run_query(new_loads_query)) -}}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#-
    The filter of the given loads' rows, written as literals: `(_loaded_at >= <their first _loaded_at> and
    _load_id in ('a', 'b', ...))`; `false` when there are none (is_new_load, is_new_load_by_high_water_mark,
    untested_loads_filter). Load ids are hashes, in no order, so a filter on them alone reads every stored
    row's id; a load's rows are appended together, after the loads stored before it, so the bound on
    `_loaded_at` lets the scan skip every row group of the older loads by its zone map (at 100M lines a month's
    row groups instead of 100M ids). The bound is the least `_loaded_at` of these very rows, so it holds
    however the loads' stamps compare with others'.

    Arguments:
        loads: a run_query result of two columns: a load id, and the least `_loaded_at` of its rows.
-#}
{% macro loads_filter(loads) -%}
    {%- if loads.rows | length == 0 -%}
        false
    {%- else -%}
        (_loaded_at >= cast('{{ loads.columns[1].values() | min }}' as timestamp) and _load_id in (
            {%- for load_id in loads.columns[0].values() -%}
                '{{ load_id | replace("'", "''") }}'{{ ", " if not loop.last }}
            {%- endfor -%}
        ))
    {%- endif -%}
{%- endmacro %}
