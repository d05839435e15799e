"""Silver cleaning and exclusion rules on a handful of literal lines, through a real `dbt build`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from cltv.config import Settings
from cltv.dbt_runner import DbtError
from cltv.warehouse import connect
from tests.dbt.conftest import line, query, write_bronze

pytestmark = pytest.mark.slow

SILVER = "+int_invoice_lines_excluded +fct_invoices"
# only the tests whose every parent is built (eager selection would add tests of the marts downstream)
BUILD = ("build", "--indirect-selection", "cautious")
BUILDABLE = ("build", "--indirect-selection", "buildable")


def test_cleaning_rules_one_by_one(settings: Settings, dbt_build):
    write_bronze(
        settings,
        [
            line(" 536365 ", "17850.0", "2010-12-01 08:26:00", stock_code=" 85123a ", unit_price=2.5549),
            line("C536379", "14527", "2010-12-01 09:41:00", quantity=-1, stock_code="D", unit_price=27.5),
            line("536414", None, "2010-12-01 11:52:00", stock_code="gift_0001_20", unit_price=0.0),
            line("A563185", "", "2011-08-12 14:50:00", stock_code="B", unit_price=-11062.06),
            line("536370", "12583", "2010-12-01 08:45:00", stock_code="DCGS0003"),
        ],
    )

    dbt_build({"as_of": "2011-12-09"}, command=BUILD, select=SILVER)

    assert query(
        settings,
        "select invoice_no, stock_code, customer_id, unit_price, revenue, is_cancellation, "
        "is_missing_customer, is_non_product, is_invalid_price "
        "from silver.stg_bronze__invoice_lines order by _source_row",
    ) == [
        ("536365", "85123A", "17850", Decimal("2.555"), Decimal("2.555"), False, False, False, False),
        ("C536379", "D", "14527", Decimal("27.500"), Decimal("-27.500"), True, False, True, False),
        ("536414", "GIFT_0001_20", None, Decimal("0.000"), Decimal("0.000"), False, True, True, True),
        ("A563185", "B", None, Decimal("-11062.060"), Decimal("-11062.060"), False, True, True, True),
        ("536370", "DCGS0003", "12583", Decimal("10.000"), Decimal("10.000"), False, False, False, False),
    ]


def test_each_line_is_kept_or_excluded_with_one_reason_by_precedence(settings: Settings, dbt_build):
    kept = line("536365", "17850.0", "2010-12-01 08:26:00")
    guest = line("536366", None, "2010-12-01 08:28:00")
    write_bronze(
        settings,
        [
            kept,
            kept,  # an exact copy in the same file
            guest,
            line("536367", None, "2010-12-01 08:30:00", stock_code="POST"),  # guest and postage: guest wins
            line("536368", "13047", "2010-12-01 08:34:00", stock_code="POST"),
            line("536369", "13047", "2010-12-01 08:35:00", unit_price=0.0),
            line("C536370", "13047", "2010-12-01 09:00:00", quantity=-2),  # a return is a customer fact
            guest,  # a copy of an excluded line is a duplicate too
        ],
        loaded_at=datetime(2020, 1, 1),
    )
    # the same line again in a later file, with the float customer id written as text
    write_bronze(settings, [{**kept, "customer_id": "17850"}], "second.csv", loaded_at=datetime(2020, 1, 2))

    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SILVER)

    assert query(
        settings,
        "select _source_file, _source_row, exclusion_reason from silver.int_invoice_lines_excluded "
        "order by 3, 1, 2",
    ) == [
        ("second.csv", 1, "duplicate"),
        ("test.csv", 2, "duplicate"),
        ("test.csv", 8, "duplicate"),
        ("test.csv", 6, "invalid_price"),
        ("test.csv", 3, "missing_customer"),
        ("test.csv", 4, "missing_customer"),
        ("test.csv", 5, "non_product"),
    ]
    assert query(settings, "select invoice_no, customer_id, revenue from gold.fct_invoices order by 1") == [
        ("536365", "17850", Decimal("10.000")),
        ("C536370", "13047", Decimal("-20.000")),
    ]
    bronze, facts, excluded = query(
        settings,
        "select (select count(*) from bronze.raw_invoices), (select count(*) from gold.fct_invoices), "
        "(select count(*) from silver.int_invoice_lines_excluded)",
    )[0]
    assert (bronze, facts + excluded) == (9, 9)


def test_the_earliest_load_keeps_the_line(settings: Settings, dbt_build):
    kept = line("536365", "17850", "2010-12-01 08:26:00")
    # loaded later but named first: the load time, not the name, decides which copy stays
    write_bronze(settings, [kept], "a-later.csv", loaded_at=datetime(2020, 1, 2))
    write_bronze(settings, [kept], "b-earlier.csv", loaded_at=datetime(2020, 1, 1))

    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SILVER)

    assert query(settings, "select _load_id from gold.fct_invoices") == [("load-b-earlier.csv",)]
    assert query(settings, "select _load_id, exclusion_reason from silver.int_invoice_lines_excluded") == [
        ("load-a-later.csv", "duplicate")
    ]


def test_a_copy_on_a_later_sheet_of_the_same_workbook_is_the_duplicate(settings: Settings, dbt_build):
    kept = line("536365", "17850", "2010-12-01 08:26:00")
    other = line("536366", "17850", "2010-12-01 08:28:00")
    # one load, two sheets numbered from row 1 each: the row number alone does not identify a line
    write_bronze(settings, [kept, other], "book.xlsx", sheet="2010")
    write_bronze(settings, [kept, other, kept], "book.xlsx", sheet="2011")

    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SILVER)

    assert query(
        settings,
        "select _source_sheet, _source_row, is_duplicate from silver.int_invoice_lines_classified "
        "order by 1, 2",
    ) == [("2010", 1, False), ("2010", 2, False), ("2011", 1, True), ("2011", 2, True), ("2011", 3, True)]


def gold_tables(settings: Settings) -> list[tuple]:
    return query(settings, "select table_name from information_schema.tables where table_schema = 'gold'")


def test_a_line_without_a_price_fails_silver_before_any_mart_is_built(settings: Settings, dbt_build):
    """Silver's not-null tests run on the stored lines (int_invoice_lines_classified), not on the views."""
    write_bronze(
        settings,
        [
            line("536365", "17850", "2010-12-01 08:26:00"),
            {**line("536366", "17850", "2010-12-01 08:27:00"), "unit_price": None},
        ],
    )

    with pytest.raises(DbtError, match="not_null_int_invoice_lines_classified_unit_price: fail"):
        dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SILVER)

    assert gold_tables(settings) == []


def test_a_line_whose_load_is_not_logged_fails_silver(settings: Settings, dbt_build):
    write_bronze(settings, [line("536365", "17850", "2010-12-01 08:26:00")])
    with connect(settings) as con:
        con.execute("delete from bronze.load_log")

    with pytest.raises(DbtError, match=r"relationships_int_invoice_lines_classified__load_id_[^:]*: fail"):
        # as the DAG selects: a test of a model against a source runs with the model (and fails its task)
        dbt_build({"as_of": "2010-12-31"}, command=BUILDABLE, select=SILVER)


TEXT_KEY = "lower(lpad(hex(invoice_line_id), 32, '0'))"  # the md5 hex digest older cltv stored
KEYED_TABLES = ("silver.int_invoice_lines_classified", "gold.fct_invoices")


def test_the_line_key_is_the_md5_digest_as_a_number(settings: Settings, dbt_build):
    first = line("536365", "17850", "2010-12-01 08:26:00")
    write_bronze(settings, [first])
    dbt_build({"as_of": "2011-12-09"}, command=BUILD, select=SILVER)

    business = (
        "concat_ws('|', invoice_no, stock_code, coalesce(description, ''), cast(quantity as varchar), "
        "cast(invoiced_at as varchar), cast(unit_price as varchar), coalesce(customer_id, ''), "
        "coalesce(country, ''))"
    )
    [(key, text, digest)] = query(
        settings,
        f"select invoice_line_id, {TEXT_KEY}, md5({business}) from silver.int_invoice_lines_classified",
    )
    assert len(digest) == 32
    assert text == digest
    assert key == int(digest, 16)


def test_a_warehouse_with_text_line_keys_is_migrated_and_still_finds_duplicates(
    settings: Settings, dbt_build
):
    first = line("536365", "17850", "2010-12-01 08:26:00")
    write_bronze(settings, [first, line("536366", "17850", "2010-12-01 08:28:00")], source_file="a.csv")
    dbt_build({"as_of": "2011-12-09"}, command=BUILD, select=SILVER)
    numbers = query(settings, "select invoice_no, invoice_line_id from gold.fct_invoices order by 1")
    with connect(settings) as con:  # the warehouse as an older cltv left it: md5 digests as text
        for table in KEYED_TABLES:
            con.execute(f"alter table {table} alter invoice_line_id type varchar using {TEXT_KEY}")

    write_bronze(settings, [first], source_file="b.csv", loaded_at=datetime(2020, 2, 1))  # a copy, later
    dbt_build({"as_of": "2011-12-09"}, command=BUILD, select=SILVER)

    for table in KEYED_TABLES:
        schema, name = table.split(".")
        assert query(
            settings,
            "select data_type from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{name}' and column_name = 'invoice_line_id'",
        ) == [("UHUGEINT",)]
    assert query(settings, "select invoice_no, invoice_line_id from gold.fct_invoices order by 1") == numbers
    assert query(
        settings,
        "select _source_file, _source_row, is_duplicate from silver.int_invoice_lines_classified "
        "order by 1, 2",
    ) == [("a.csv", 1, False), ("a.csv", 2, False), ("b.csv", 1, True)]
