{#-
    Use a model's custom schema as it is (`silver`, `gold`) instead of dbt's default
    `<target schema>_<custom schema>`, so BI users and the ML stage read stable names.

    Arguments:
        custom_schema_name: the `+schema` configured for the model, or none.
        node: the node being built.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
