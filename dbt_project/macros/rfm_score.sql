{#-
    A 1-5 quintile score as a window expression: 1 + floor(5 * percent_rank), capped at 5, over the whole
    result set ordered by `order_by` (ascending order: larger values score higher; pass `x desc` to reverse).
    percent_rank = (rank - 1) / (rows - 1), so tied values share one rank and therefore one score, and the
    score does not depend on row order: deterministic. Bands: percent rank [0, 0.2) -> 1, [0.2, 0.4) -> 2,
    [0.4, 0.6) -> 3, [0.6, 0.8) -> 4, [0.8, 1] -> 5. A single row scores 1.

    Arguments:
        order_by: the expression (with an optional `desc`) to rank by.
        partition_by: optional expression that splits the rows into independently scored groups.
-#}
{% macro rfm_score(order_by, partition_by=none) -%}
    least(
        5,
        1 + cast(floor(5 * percent_rank() over (
            {%- if partition_by %}partition by {{ partition_by }} {% endif -%}
            order by {{ order_by }})) as integer)
    )
{%- endmacro %}
