{#-
    True for stock codes that are not products: postage and carriage (POST, DOT, C2, C3), manual entries and
    adjustments (M, ADJUST, ADJUST2, B = "Adjust bad debt"), discounts (D), samples (S), fees and charges
    (BANK CHARGES, AMAZONFEE, CRUK commission), cushion pads given away (PADS), test products (TEST001,
    TEST002) and gift vouchers (GIFT, gift_0001_10 ... gift_0001_90). The list comes from every code of the
    UCI Online Retail files that is not five digits with an optional letter suffix; the rest of those codes
    (DCGS0003 ... "dotcom giftshop" items, SP1002) are products sold online and stay products.

    Arguments:
        column: the stock code column, already upper-cased and trimmed.
-#}
{% macro is_non_product_code(column) -%}
    (
        {{ column }} in (
            'POST', 'DOT', 'C2', 'C3', 'M', 'ADJUST', 'ADJUST2', 'B', 'D', 'S',
            'BANK CHARGES', 'AMAZONFEE', 'CRUK', 'PADS', 'TEST001', 'TEST002'
        )
        or {{ column }} like 'GIFT%'
    )
{%- endmacro %}
