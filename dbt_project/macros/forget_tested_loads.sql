{#-
    Pre-hook of a model with tests scoped to untested loads (macro untested_loads_filter): when the model is
    built from scratch (first build, full refresh), its rows are new whatever their load, so the record of
    the loads its tests passed on is deleted before the build; its next tests read every row, even after a
    build that stopped half-way. A no-op on incremental runs.

    Arguments: none (reads `this`).
-#}
{% macro forget_tested_loads() -%}
    {%- if execute and not is_incremental() and load_relation(tested_loads_relation()) is not none -%}
        delete from {{ tested_loads_relation() }} where model_relation = '{{ tested_loads_model_name(this) }}'
    {%- endif -%}
{%- endmacro %}
