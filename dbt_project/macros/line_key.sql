{#-
    The business key of an invoice line: the 128-bit md5 of its business columns, equal for exact
    duplicates whichever file or load they came from.

    On DuckDB it is stored as a number (`uhugeint`, 16 bytes) rather than md5's 32-character hex text:
    the key of every line is written to silver and gold and published, and a random hex string is most
    of those tables' bytes (at 10M lines, `fct_invoices` to Parquet: 228 MB with the text key, 140 MB with
    the number; writing it 10 s against 7 s). The number is the hex digest read in base 16, so
    `migrate_line_keys` converts warehouses built with the text key in place. Elsewhere, dbt's hash (text).

    Arguments:
        expression: a text expression of the business columns (e.g. a `concat_ws`).
-#}
{% macro line_key(expression) -%}
    {{ return(adapter.dispatch('line_key', 'cltv')(expression)) }}
{%- endmacro %}

{% macro default__line_key(expression) -%}
    {{ dbt.hash(expression) }}
{%- endmacro %}

{% macro duckdb__line_key(expression) -%}
    cast('0x' || md5({{ expression }}) as uhugeint)
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
