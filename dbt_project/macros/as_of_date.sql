{#-
    The run's business date (run parameter `as_of`, an ISO date, inclusive; see run_param) as a SQL date
    literal. Fails the run with a clear message when it is not an ISO date.

    Arguments: none.
-#}
{% macro as_of_date() -%}
    {%- set as_of = run_param('as_of') | string -%}
    {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', as_of) -%}
        {{ exceptions.raise_compiler_error("as_of must be an ISO date (YYYY-MM-DD), got '" ~ as_of ~ "'") }}
    {%- endif -%}
    cast('{{ as_of }}' as date)
{%- endmacro %}
