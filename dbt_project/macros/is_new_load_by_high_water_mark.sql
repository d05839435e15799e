{#-
    Filter for an incremental model whose rows aggregate lines of several loads, so it cannot hold every
    load id it has read (as is_new_load requires): each row keeps the `_loaded_at` and `_load_id` of its
    latest line instead. In an incremental run, true for the input's rows of the loads not read yet: those
    loaded after the model's latest `_loaded_at` (its high-water mark), and those loaded at the mark whose
    id the model does not hold (two files stamped alike; `cltv.ingest` stamps each file apart, but nothing
    is missed if two tie). In a full build, or while the model is empty, true for every row. A load's lines
    share one `_loaded_at` and a later ingest has a later one, so the old loads are skipped without a list
    of them. The new load ids are looked up first and written into the SQL as literals, as is_new_load
    does, so the database filters the input's scan itself. A load that left no row in the model (e.g. only
    non-product lines) is read again, changing nothing, until a later load raises the mark.

    Arguments:
        relation: the model's input, e.g. ref('int_invoice_lines_classified'); it has `_load_id` and
            `_loaded_at`, and so does the model.
-#}
{% macro is_new_load_by_high_water_mark(relation) -%}
    {%- if is_incremental() and execute -%}
        {%- set new_loads_query -%}
            with

            high_water_mark as (
                select max(_loaded_at) as loaded_at from {{ this }}
            ),

            loads_at_mark as (
                select distinct _load_id from {{ this }}
                where _loaded_at = (select loaded_at from high_water_mark)
            )

            select _load_id, min(_loaded_at) from {{ relation }}
            where (select loaded_at from high_water_mark) is null
                or _loaded_at > (select loaded_at from high_water_mark)
                or (
                    _loaded_at = (select loaded_at from high_water_mark)
                    and _load_id not in (select _load_id from loads_at_mark)
                )
            group by _load_id
            order by 1
        {%- endset -%}
        {{- loads_filter(run_query(new_loads_query)) -}}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
