{#-
    True for stock codes that are not products: postage, carriage, manual adjustments, discounts,
    samples, fees and charges, and gift vouchers. The list comes from the codes seen in the UCI Online
    Retail data; product codes there are five digits with an optional letter suffix.

    Arguments:
        column: the (upper-cased, trimmed) stock code column.
-#}
{% macro is_non_product_code(column) -%}
    (
        {{ column }} in ('POST', 'DOT', 'M', 'C2', 'D', 'S', 'BANK CHARGES', 'AMAZONFEE', 'CRUK', 'PADS', 'B', 'ADJUST', 'ADJUST2', 'TEST001', 'TEST002')
        or {{ column }} like 'GIFT%'
        or {{ column }} like 'DCGS%'
    )
{%- endmacro %}
