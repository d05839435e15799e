"""Gold core dimensions and the as_of reports on a handful of literal lines, through a real `dbt build`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from cltv.config import Settings
from cltv.dbt_runner import run_dbt
from tests.dbt.conftest import line, query, write_bronze

pytestmark = pytest.mark.slow

SELECT = "+path:models/marts/core +path:models/marts/reports"
BUILD = ("build", "--indirect-selection", "cautious")
AS_OF = "2011-01-31"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One warehouse for the module: the lines below, built once."""
    root = tmp_path_factory.mktemp("core_marts")
    settings = Settings.from_env(
        {"CLTV_WAREHOUSE": str(root / "w.duckdb"), "CLTV_DUCKDB_MEMORY_LIMIT": "2GB"}
    )
    write_bronze(
        settings,
        [
            # 12583: two lines in France, two in Germany, Germany the latest: Germany is the main country
            line("536370", "12583", "2010-12-01 08:45:00", country="France", quantity=2),
            line("536370", "12583", "2010-12-01 08:45:00", country="France", stock_code="22728"),
            line("536371", "12583", "2011-01-05 10:00:00", country="Germany", stock_code="22728"),
            line("536372", "12583", "2011-01-06 10:00:00", country="Germany", unit_price=3.5),
            # 13047: first order in January 2011 (new), then a return; its February order is after as_of
            line("536380", "13047", "2011-01-10 09:00:00", stock_code="22728", description="ALARM CLOCK"),
            line("C536381", "13047", "2011-01-31 23:59:00", stock_code="22728", quantity=-1),
            line("536390", "13047", "2011-02-01 00:00:00", unit_price=100.0),
            # 14527 only ever cancelled
            line("C536391", "14527", "2010-12-02 12:00:00", quantity=-3),
            # a guest buys a product nobody else bought, and pays postage
            line("536392", None, "2011-01-15 15:30:00", stock_code="90210B", description="GUEST ONLY"),
            line("536392", None, "2011-01-15 15:30:00", stock_code="POST", unit_price=18.0),
        ],
    )
    run_dbt([*BUILD, "--select", SELECT], settings, {"as_of": AS_OF})
    return settings


def test_dim_customer_main_country_and_lifetime_figures(built: Settings):
    assert query(
        built,
        "select customer_id, country, first_purchase_at, last_purchase_at, lifetime_orders, "
        "lifetime_cancellations, lifetime_net_revenue from gold.dim_customer order by 1",
    ) == [
        ("12583", "Germany", datetime(2010, 12, 1, 8, 45), datetime(2011, 1, 6, 10), 3, 0, Decimal("43.500")),
        ("13047", "United Kingdom", datetime(2011, 1, 10, 9), datetime(2011, 2, 1), 2, 1, Decimal("100.000")),
        ("14527", "United Kingdom", None, None, 0, 1, Decimal("-30.000")),
    ]


def test_dim_product_has_guest_products_not_postage_and_the_most_frequent_description(built: Settings):
    products = query(
        built,
        "select stock_code, description, line_count, min_unit_price, max_unit_price "
        "from gold.dim_product order by 1",
    )
    assert products == [
        ("22728", "WHITE HANGING HEART T-LIGHT HOLDER", 4, Decimal("10.000"), Decimal("10.000")),
        ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 4, Decimal("3.500"), Decimal("100.000")),
        ("90210B", "GUEST ONLY", 1, Decimal("10.000"), Decimal("10.000")),
    ]
    # every fact points at its product and its minute
    assert query(
        built,
        "select count(*) from gold.fct_invoices f "
        "join gold.dim_product p on f.product_id = p.product_id and f.stock_code = p.stock_code "
        "join gold.dim_datetime d on f.datetime_id = d.datetime_id and f.invoiced_at = d.datetime_at",
    ) == [(8,)]


def test_dim_datetime_calendar_attributes(built: Settings):
    assert query(
        built,
        "select datetime_id, calendar_date, calendar_year, calendar_quarter, calendar_month, day_of_month, "
        "day_of_week, is_weekend, hour_of_day, minute_of_hour from gold.dim_datetime order by 1 limit 1",
    ) == [(201012010845, date(2010, 12, 1), 2010, 4, 12, 1, 3, False, 8, 45)]
    # 2011-01-15 is a Saturday (the guest's minute is not a customer fact, so it is not listed)
    assert query(built, "select count(*) from gold.dim_datetime where is_weekend") == [(0,)]


def test_invoices_aggregated_has_one_row_per_invoice_of_every_sales_line(built: Settings):
    """The rollup the reports read: all loaded invoices (no as_of), postage left out of the guest's."""
    assert query(
        built,
        "select invoice_no, customer_id, is_guest, is_cancellation, country, invoice_date, line_count, "
        "product_count, quantity, revenue from silver.int_invoices_aggregated order by 1",
    ) == [
        ("536370", "12583", False, False, "France", date(2010, 12, 1), 2, 2, 3, Decimal("30.000")),
        ("536371", "12583", False, False, "Germany", date(2011, 1, 5), 1, 1, 1, Decimal("10.000")),
        ("536372", "12583", False, False, "Germany", date(2011, 1, 6), 1, 1, 1, Decimal("3.500")),
        ("536380", "13047", False, False, "United Kingdom", date(2011, 1, 10), 1, 1, 1, Decimal("10.000")),
        ("536390", "13047", False, False, "United Kingdom", date(2011, 2, 1), 1, 1, 1, Decimal("100.000")),
        ("536392", None, True, False, "United Kingdom", date(2011, 1, 15), 1, 1, 1, Decimal("10.000")),
        ("C536381", "13047", False, True, "United Kingdom", date(2011, 1, 31), 1, 1, -1, Decimal("-10.000")),
        ("C536391", "14527", False, True, "United Kingdom", date(2010, 12, 2), 1, 1, -3, Decimal("-30.000")),
    ]


def test_report_customers_sees_only_lines_up_to_as_of(built: Settings):
    assert query(
        built,
        "select customer_id, country, order_count, cancellation_count, net_revenue, "
        "days_since_last_purchase, as_of_date from gold.report_customers order by 1",
    ) == [
        ("12583", "Germany", 3, 0, Decimal("43.500"), 25, date(2011, 1, 31)),
        # the return at 23:59 on as_of counts; the order at midnight after it does not
        ("13047", "United Kingdom", 1, 1, Decimal("0.000"), 21, date(2011, 1, 31)),
        ("14527", "United Kingdom", 0, 1, Decimal("-30.000"), None, date(2011, 1, 31)),
    ]


def test_report_sales_counts_guests_in_revenue_and_new_versus_returning_customers(built: Settings):
    assert query(
        built,
        "select month_start_date, order_count, guest_order_count, customer_count, new_customer_count, "
        "returning_customer_count, net_revenue, guest_net_revenue from gold.report_sales order by 1",
    ) == [
        (date(2010, 12, 1), 1, 0, 1, 1, 0, Decimal("0.000"), Decimal("0.000")),
        (date(2011, 1, 1), 4, 1, 2, 1, 1, Decimal("23.500"), Decimal("10.000")),
    ]


def test_report_transactions_one_row_per_invoice_guests_included(built: Settings):
    assert query(
        built,
        "select invoice_no, customer_id, is_guest, is_cancellation, line_count, quantity, revenue "
        "from gold.report_transactions order by 1",
    ) == [
        ("536370", "12583", False, False, 2, 3, Decimal("30.000")),
        ("536371", "12583", False, False, 1, 1, Decimal("10.000")),
        ("536372", "12583", False, False, 1, 1, Decimal("3.500")),
        ("536380", "13047", False, False, 1, 1, Decimal("10.000")),
        ("536392", None, True, False, 1, 1, Decimal("10.000")),
        ("C536381", "13047", False, True, 1, -1, Decimal("-10.000")),
        ("C536391", "14527", False, True, 1, -3, Decimal("-30.000")),
    ]


def test_country_product_and_year_reports(built: Settings):
    assert query(
        built,
        "select country, customer_count, order_count, net_revenue "
        "from gold.report_country_customers order by 1",
    ) == [
        ("France", 1, 1, Decimal("30.000")),
        ("Germany", 1, 2, Decimal("13.500")),
        ("United Kingdom", 2, 2, Decimal("-20.000")),
    ]
    assert query(
        built,
        "select stock_code, invoice_count, cancellation_count, quantity_sold, quantity_returned, net_revenue "
        "from gold.report_product_invoices order by 1",
    ) == [
        ("22728", 3, 1, 3, 1, Decimal("20.000")),
        ("85123A", 2, 1, 3, 3, Decimal("-6.500")),
        ("90210B", 1, 0, 1, 0, Decimal("10.000")),
    ]
    assert query(
        built,
        "select invoice_year, invoice_month, invoice_count, net_revenue, year_to_date_net_revenue "
        "from gold.report_year_invoices order by 1, 2",
    ) == [
        (2010, 12, 1, Decimal("0.000"), Decimal("0.000")),
        (2011, 1, 4, Decimal("23.500"), Decimal("23.500")),
    ]
