{#-
    A `select` of the cutoff dates whose customer features this run builds, one row each, as a column
    `cutoff_date` of type date. Cutoffs are the run's `feature_cutoffs`, or the run's `as_of` alone when that
    list is empty. A cutoff after `as_of` is an error: its features would use lines this run may not see.
    Portable SQL (one `select ... union all` per cutoff), so callers need no DuckDB list functions.

    Arguments:
        feature_cutoffs: list of ISO dates (a comma-separated string is accepted too); empty means [as_of].
        as_of: ISO date the run closes (inclusive).
-#}
{% macro feature_cutoff_dates(feature_cutoffs, as_of) -%}
    {%- if feature_cutoffs is string -%}
        {%- set feature_cutoffs = feature_cutoffs.split(',') | map('trim') | reject('equalto', '') | list -%}
    {%- endif -%}
    {%- set cutoffs = (feature_cutoffs or [as_of]) | map('string') | map('trim') | unique | sort -%}
    {%- for cutoff in cutoffs -%}
        {%- if modules.datetime.date.fromisoformat(cutoff) > modules.datetime.date.fromisoformat(as_of | string) -%}
            {{ exceptions.raise_compiler_error("feature cutoff " ~ cutoff ~ " is after as_of " ~ as_of) }}
        {%- endif %}
    select cast('{{ cutoff }}' as date) as cutoff_date
    {%- if not loop.last %}
    union all
    {%- endif -%}
    {%- endfor %}
{%- endmacro %}
