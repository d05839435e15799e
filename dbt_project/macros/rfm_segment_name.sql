{#-
    The named RFM segment of a customer from their recency and frequency scores (1-5), after the widely used
    R x F grid (R score first, F score second):

        R \ F      1                2                   3                   4                  5
        5          New Customers    Potential Loyalist  Potential Loyalist  Champions          Champions
        4          Promising        Potential Loyalist  Potential Loyalist  Loyal Customers    Loyal Customers
        3          About to Sleep   About to Sleep      Need Attention      Loyal Customers    Loyal Customers
        2          Hibernating      Hibernating         At Risk             At Risk            Cannot Lose Them
        1          Lost             Hibernating         At Risk             At Risk            Cannot Lose Them

    Lost is the grid's lowest cell (R = 1 and F = 1); the rest of R 1-2 x F 1-2 is Hibernating.

    Arguments:
        recency_score: 1-5 recency score column (5 = most recent).
        frequency_score: 1-5 frequency score column (5 = most frequent).
-#}
{% macro rfm_segment_name(recency_score, frequency_score) -%}
    case
        when {{ recency_score }} = 1 and {{ frequency_score }} = 1 then 'Lost'
        when {{ recency_score }} <= 2 and {{ frequency_score }} <= 2 then 'Hibernating'
        when {{ recency_score }} <= 2 and {{ frequency_score }} <= 4 then 'At Risk'
        when {{ recency_score }} <= 2 then 'Cannot Lose Them'
        when {{ recency_score }} = 3 and {{ frequency_score }} <= 2 then 'About to Sleep'
        when {{ recency_score }} = 3 and {{ frequency_score }} = 3 then 'Need Attention'
        when {{ recency_score }} = 3 then 'Loyal Customers'
        when {{ recency_score }} = 4 and {{ frequency_score }} = 1 then 'Promising'
        when {{ recency_score }} = 4 and {{ frequency_score }} <= 3 then 'Potential Loyalist'
        when {{ recency_score }} = 4 then 'Loyal Customers'
        when {{ frequency_score }} = 1 then 'New Customers'
        when {{ frequency_score }} <= 3 then 'Potential Loyalist'
        else 'Champions'
    end
{%- endmacro %}
