{#-
    The cutoff dates whose customer features this run builds: the run's `feature_cutoffs`, or the run's
    `as_of` alone when that list is empty, as sorted, distinct ISO strings. A cutoff after `as_of` is an
    error: its features would use lines this run may not see.

    Arguments:
        feature_cutoffs: list of ISO dates (a comma-separated string is accepted too); empty means [as_of].
        as_of: ISO date the run closes (inclusive).
-#}
{% macro feature_cutoff_list(feature_cutoffs, as_of) -%}
    {%- if feature_cutoffs is string -%}
        {%- set feature_cutoffs = feature_cutoffs.split(',') | map('trim') | reject('equalto', '') | list -%}
    {%- endif -%}
    {%- set cutoffs = (feature_cutoffs or [as_of]) | map('string') | map('trim') | unique | sort | list -%}
    {%- for cutoff in cutoffs -%}
        {%- if modules.datetime.date.fromisoformat(cutoff) > modules.datetime.date.fromisoformat(as_of | string) -%}
            {{ exceptions.raise_compiler_error("feature cutoff " ~ cutoff ~ " is after as_of " ~ as_of) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(cutoffs) }}
{%- endmacro %}

{#-
    The run's cutoff dates (`feature_cutoff_list`) as comma-separated date literals, for `cutoff_date in (...)`
    filters that let a scan skip the other cutoffs' row groups.
-#}
{% macro feature_cutoff_literals(feature_cutoffs, as_of) -%}
    {%- for cutoff in feature_cutoff_list(feature_cutoffs, as_of) -%}
    cast('{{ cutoff }}' as date){% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#-
    A `select` of the run's cutoff dates (`feature_cutoff_list`), one row each, as a column `cutoff_date` of
    type date. Portable SQL (one `select ... union all` per cutoff), so callers need no DuckDB list functions.
-#}
{% macro feature_cutoff_dates(feature_cutoffs, as_of) -%}
    {%- for cutoff in feature_cutoff_list(feature_cutoffs, as_of) %}
    select cast('{{ cutoff }}' as date) as cutoff_date
    {%- if not loop.last %}
    union all
    {%- endif -%}
    {%- endfor %}
{%- endmacro %}

{#-
    The run's cutoffs dealt into groups of at most `per_batch`, round robin (each group mixes early and late
    cutoffs, which have few and many customers, so the groups are about the same size). A model that
    aggregates per (customer, cutoff) aggregates one group at a time: its hash table then holds a group's
    customers, not all cutoffs' at once (at 100M lines all eleven cutoffs' 5.2M groups of ~40 aggregates
    overflow an 8 GB memory limit and spill; bench/README.md, seventh round).

    Arguments:
        feature_cutoffs, as_of: as for `feature_cutoff_list`.
        per_batch: most cutoffs per group, at least 1.
-#}
{% macro feature_cutoff_batches(feature_cutoffs, as_of, per_batch) -%}
    {%- set cutoffs = feature_cutoff_list(feature_cutoffs, as_of) -%}
    {%- set per_batch = [per_batch | int, 1] | max -%}
    {%- set batches = [((cutoffs | length) + per_batch - 1) // per_batch, 1] | max -%}
    {%- set groups = [] -%}
    {%- for first in range(batches) -%}
        {%- do groups.append(cutoffs[first::batches]) -%}
    {%- endfor -%}
    {{ return(groups) }}
{%- endmacro %}
