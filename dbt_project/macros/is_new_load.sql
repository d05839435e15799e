{#-
    Filter for an incremental model fed by loads: in an incremental run, true for the input's rows of the
    loads the model has not read yet; in a full build, or while the model is empty, true for every row.
    Every row of the model keeps the `_load_id` and `_loaded_at` of a line it was built from (its own line,
    or the latest of the lines it aggregates), and cltv.ingest stamps every load later than every load
    before it (a load's lines share one `_loaded_at`). So the loads not read yet are those stamped after the
    model's latest `_loaded_at` (its high-water mark), and those stamped at the mark whose id the model does
    not hold (two loads stamped alike: nothing is missed if two tie). A load that left no row in the model
    (only duplicates, only non-product lines) is read again, changing nothing, until a later load raises
    the mark.

    The mark is looked up first (DuckDB answers it from the column's statistics) and written into the SQL
    as a literal, and so are the new loads' ids and their first `_loaded_at` (macro loads_filter): each scan
    skips the older loads' row groups by their zone maps, so a lookup reads a month's rows instead of every
    stored load id (at 100M lines 0.5-1.1 s -> under 0.1 s a model).

    Arguments:
        relation: the model's input, e.g. ref('int_invoice_lines_classified'); it has `_load_id` and
            `_loaded_at`, and so does the model.
-#}
{% macro is_new_load(relation) -%}
    {%- if is_incremental() and execute -%}
        {%- set mark = run_query('select max(_loaded_at) from ' ~ this).columns[0].values()[0] -%}
        {%- if mark is none -%}
            true
        {%- else -%}
            {%- set from_mark = "_loaded_at >= cast('" ~ mark ~ "' as timestamp)" -%}
            {%- set new_loads_query -%}
                select _load_id, min(_loaded_at) from {{ relation }}
                where {{ from_mark }}
                    and _load_id not in (select distinct _load_id from {{ this }} where {{ from_mark }})
                group by _load_id
                order by 1
            {%- endset -%}
            {{- loads_filter(run_query(new_loads_query)) -}}
        {%- endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#-
    The filter of the given loads' rows, written as literals: `(_loaded_at >= <their first _loaded_at> and
    _load_id in ('a', 'b', ...))`; `false` when there are none (is_new_load, untested_loads_filter). Load
    ids are hashes, in no order, so a filter on them alone reads every stored row's id; a load's rows are appended together, after the loads stored before it, so the bound on
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
