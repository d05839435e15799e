{#-
    One of the run's parameters (`as_of`, `horizon_days`, `feature_cutoffs`): the environment variable
    CLTV_RUN_<NAME> when it is set (text: an ISO date, a number, comma-separated ISO dates), else the var.

    The DAG passes the parameters as environment variables, not --vars: dbt parses the whole project again
    whenever --vars change (2.5 s at every run's first dbt task), while a changed environment variable only
    re-parses the files that read it (cltv.dbt_runner.run_dbt passes them so too). A dbt command run by
    hand may pass --vars instead.

    Arguments:
        name: the parameter's var name.
-#}
{% macro run_param(name) -%}
    {%- set from_env = env_var('CLTV_RUN_' ~ (name | upper), '') -%}
    {{- return(from_env if from_env != '' else var(name)) -}}
{%- endmacro %}
