"""Both UCI files through ingest and dbt: nothing lost, the overlap counted once, revenue to the cent."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from cltv.config import Settings
from cltv.dbt_runner import run_dbt
from cltv.ingest import ingest_landing
from cltv.warehouse import connect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, real_data) -> Settings:
    root = tmp_path_factory.mktemp("reconciliation")
    settings = Settings.from_env(
        {"CLTV_WAREHOUSE": str(root / "w.duckdb"), "CLTV_LANDING_DIR": str(root / "in")}
    )
    settings.landing_dir.mkdir()
    for path in real_data.values():
        shutil.copy(path, settings.landing_dir / path.name)
    ingest_landing(settings, run_id="reconciliation")
    run_dbt(["build"], settings, {"as_of": "2011-12-09"})
    return settings


def scalar(settings: Settings, sql: str):
    with connect(settings, read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_facts_plus_excluded_equal_bronze_exactly(warehouse: Settings):
    bronze = scalar(warehouse, "select count(*) from bronze.raw_invoices")
    facts = scalar(warehouse, "select count(*) from gold.fct_invoices")
    excluded = scalar(warehouse, "select count(*) from silver.int_invoice_lines_excluded")
    assert bronze == 541_909 + 525_461
    assert facts + excluded == bronze


def test_the_overlap_of_the_two_files_counts_once(warehouse: Settings):
    overlap_lines = scalar(
        warehouse,
        "select count(*) from silver.int_invoice_lines_classified "
        "where _source_file like 'online_retail_ii%' "
        "and invoice_date between date '2010-12-01' and date '2010-12-09'",
    )
    kept_more_or_less_than_once = scalar(
        warehouse,
        "select count(*) from (select invoice_line_id from silver.int_invoice_lines_classified "
        "where invoice_date between date '2010-12-01' and date '2010-12-09' group by 1 "
        "having count(*) filter (where copy_number = 1) <> 1)",
    )
    in_one_file_only = scalar(
        warehouse,
        "select count(*) from (select invoice_line_id from silver.int_invoice_lines_classified "
        "where invoice_date between date '2010-12-01' and date '2010-12-09' group by 1 "
        "having count(distinct _source_file) = 1 "
        "and count(*) filter (where _source_file like 'online_retail_ii%') > 0)",
    )
    assert overlap_lines == 22_523
    assert kept_more_or_less_than_once == 0
    assert in_one_file_only == 0


def test_gold_revenue_reconciles_to_the_cent_with_the_valid_bronze_lines(warehouse: Settings):
    expected = scalar(
        warehouse,
        """
        with distinct_lines as (
            select distinct invoice_no, stock_code, description, quantity, invoice_date, unit_price,
                regexp_replace(customer_id, '[.]0+$', '') as customer_id, country
            from bronze.raw_invoices
        )
        select sum(cast(quantity * cast(round(unit_price, 3) as decimal(18, 3)) as decimal(18, 3)))
        from distinct_lines
        where customer_id is not null and unit_price > 0
          and upper(trim(stock_code)) not in (
              select distinct stock_code from silver.stg_bronze__invoice_lines where is_non_product
          )
        """,
    )
    actual = scalar(warehouse, "select sum(revenue) from gold.fct_invoices")
    assert actual == expected
    assert actual == Decimal("16358629.290")


def test_every_exclusion_has_a_reason(warehouse: Settings):
    with connect(warehouse, read_only=True) as con:
        reasons = dict(
            con.execute(
                "select exclusion_reason, count(*) from silver.int_invoice_lines_excluded group by 1"
            ).fetchall()
        )
    assert set(reasons) == {"duplicate", "missing_customer", "non_product", "invalid_price"}
    assert reasons["missing_customer"] > 200_000
    assert reasons["duplicate"] >= 22_523 + 5_268  # the overlap plus Online Retail's own exact duplicates


def test_dim_customer_covers_every_fact_customer_and_their_revenue(warehouse: Settings):
    with connect(warehouse, read_only=True) as con:
        facts = con.execute(
            "select count(distinct customer_id), sum(revenue) from gold.fct_invoices"
        ).fetchone()
        dims = con.execute("select count(*), sum(lifetime_net_revenue) from gold.dim_customer").fetchone()
        customer = con.execute(
            "select country, lifetime_orders, lifetime_net_revenue from gold.dim_customer "
            "where customer_id = '12346'"
        ).fetchone()
    assert dims == facts
    # 12346 bought 74,215 units on 2011-01-18 and cancelled them at once; with Online Retail II's year
    # before, three orders remain, netting 169.36.
    assert customer == ("United Kingdom", 3, Decimal("169.360"))
