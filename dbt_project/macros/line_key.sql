{#-
    A row's business key: the 128-bit md5 of a text expression of its business columns, equal for equal
    columns whichever file or load they came from. Joins and delete+insert match on it, one number
    instead of several text columns (at 100M lines, matching a month's 2M product-customer pairs against
    the 58M stored ones took 3.1 s on the two text columns, 0.5 s on the key).

    On DuckDB it is stored as a number (`uhugeint`, 16 bytes) rather than md5's 32-character hex text:
    the key of every line is written to silver and gold and published, and a random hex string is most
    of those tables' bytes (at 10M lines, `fct_invoices` to Parquet: 228 MB with the text key, 140 MB with
    the number; writing it 10 s against 7 s). The number is the hex digest read in base 16, so
    `migrate_line_keys` converts warehouses built with the text key in place. Elsewhere, dbt's hash (text).

    Arguments:
        expression: a text expression of the business columns (e.g. a `concat_ws`).
-#}
{% macro business_key(expression) -%}
    {{ return(adapter.dispatch('business_key', 'cltv')(expression)) }}
{%- endmacro %}

{% macro default__business_key(expression) -%}
    {{ dbt.hash(expression) }}
{%- endmacro %}

{% macro duckdb__business_key(expression) -%}
    cast('0x' || md5({{ expression }}) as uhugeint)
{%- endmacro %}


{#- The business key of an invoice line (macro business_key of its eight business columns). -#}
{% macro line_key(expression) -%}
    {{ return(business_key(expression)) }}
{%- endmacro %}


{#- The column type of macro business_key: `uhugeint` on DuckDB, text elsewhere. -#}
{% macro business_key_type() -%}
    {{ return(adapter.dispatch('business_key_type', 'cltv')()) }}
{%- endmacro %}

{% macro default__business_key_type() -%}
    {{ dbt.type_string() }}
{%- endmacro %}

{% macro duckdb__business_key_type() -%}
    uhugeint
{%- endmacro %}


{#- The business key of a product-customer pair (macro business_key). -#}
{% macro product_customer_key(stock_code, customer_id) -%}
    {{ return(business_key("concat_ws('|', " ~ stock_code ~ ", " ~ customer_id ~ ")")) }}
{%- endmacro %}


{#-
    Pre-hook of int_product_customers_aggregated: a table built before the pairs carried their key
    (`product_customer_id`) gets the column, filled from each row's stock code and customer, before the
    incremental run matches new pairs on it. A no-op once the column exists, and on a first build.

    Arguments: none (the model's relation, `this`).
-#}
{% macro add_product_customer_keys() -%}
    {%- if execute and is_incremental() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- if 'product_customer_id' not in columns -%}
            alter table {{ this }} add column product_customer_id {{ business_key_type() }};
            update {{ this }} set product_customer_id = {{ product_customer_key('stock_code', 'customer_id') }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#-
    On-run-start migration: the stored line keys of a warehouse built before `line_key` became a number
    (text md5 digests) are converted in place, so that incremental runs compare keys of one type. A
    no-op (one catalog query) once converted, on a fresh warehouse, and on other adapters.
-#}
{% macro migrate_line_keys() %}
    {%- if execute and target.type == 'duckdb' -%}
        {%- set text_keys -%}
            select table_schema, table_name
            from information_schema.columns
            where table_catalog = '{{ target.database }}'
                and column_name = 'invoice_line_id'
                and data_type = 'VARCHAR'
                and (table_schema, table_name) in (
                    ('silver', 'int_invoice_lines_classified'), ('gold', 'fct_invoices')
                )
            order by table_schema desc
        {%- endset -%}
        {%- for row in run_query(text_keys).rows -%}
            {%- set relation = adapter.quote(row[0]) ~ '.' ~ adapter.quote(row[1]) -%}
            {{ log('migrating ' ~ relation ~ '.invoice_line_id from md5 text to uhugeint', info=true) }}
            {%- do run_query(
                'alter table ' ~ relation ~ ' alter column invoice_line_id type uhugeint'
                ~ " using cast('0x' || invoice_line_id as uhugeint)"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{% endmacro %}
