{#-
    The value of `arg` on the row where `val` is largest within the group (ties: any one of them), as an
    aggregate. DuckDB has `arg_max`; other warehouses name it differently (`max_by`), so models call this
    macro and an adapter-specific version can be added through `adapter.dispatch`.

    Arguments:
        arg: expression whose value is returned.
        val: expression that orders the rows.
-#}
{% macro feature_arg_max(arg, val) -%}
    {{ return(adapter.dispatch('feature_arg_max', 'cltv')(arg, val)) }}
{%- endmacro %}

{% macro default__feature_arg_max(arg, val) -%}
    arg_max({{ arg }}, {{ val }})
{%- endmacro %}
