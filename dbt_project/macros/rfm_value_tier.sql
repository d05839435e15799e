{#-
    Value tier from the monetary score (1-5, net revenue quintiles): High for the top quintile (score 5),
    Mid for scores 3-4, Low for scores 1-2. Roughly 20% / 40% / 40% of customers, fewer where ties gather.

    Arguments:
        monetary_score: 1-5 monetary score column (5 = highest net revenue).
-#}
{% macro rfm_value_tier(monetary_score) -%}
    case
        when {{ monetary_score }} = 5 then 'High'
        when {{ monetary_score }} >= 3 then 'Mid'
        else 'Low'
    end
{%- endmacro %}
