{#-
    The run's business date (var `as_of`, an ISO date, inclusive) as a SQL date literal. Fails the run with
    a clear message when the var is not an ISO date.

    Arguments: none (reads var('as_of')).
-#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of') | string -%}
    {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', as_of) -%}
        {{ exceptions.raise_compiler_error("var as_of must be an ISO date (YYYY-MM-DD), got '" ~ as_of ~ "'") }}
    {%- endif -%}
    cast('{{ as_of }}' as date)
{%- endmacro %}
