{#-
    dbt's `where` test config, with two placeholders: `__untested_loads__` becomes the filter of macro
    untested_loads_filter for the model under test (the rows of the loads this test has not yet passed on),
    `__run_cutoffs__` the filter of macro run_cutoffs_filter (the rows of the cutoffs this run built).
    dbt renders a test's `where` without the project's macros, so the placeholders are replaced here, when the
    test runs; dbt documents overriding this macro for such filters. Otherwise as dbt's own: the model is
    wrapped in `(select * from model where <where>)`.

    Arguments:
        relation: the model under test (given by dbt).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- if '__untested_loads__' in where -%}
        {%- set where = where | replace('__untested_loads__', untested_loads_filter(relation)) -%}
    {%- endif -%}
    {%- if '__run_cutoffs__' in where -%}
        {%- set where = where | replace('__run_cutoffs__', run_cutoffs_filter()) -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
