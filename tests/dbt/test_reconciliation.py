"""Both UCI files through ingest and one full dbt build: nothing lost, the overlap counted once, revenue to
the cent, and the published facts about Online Retail hold. One warehouse for the module: dbt runs once."""

from __future__ import annotations

import shutil
import time
from decimal import Decimal

import pytest

from cltv.config import Settings
from cltv.dbt_runner import run_dbt
from cltv.ingest import ingest_landing
from cltv.warehouse import connect

pytestmark = pytest.mark.slow

AS_OF = "2011-12-09"
ONLINE_RETAIL = "online_retail.parquet"
ONLINE_RETAIL_II = "online_retail_ii_2009_2010.parquet"

# Non-product codes written out again here, so the expected revenue does not lean on the model's macro.
NON_PRODUCT = (
    "upper(trim(stock_code)) in ('POST', 'DOT', 'C2', 'C3', 'M', 'ADJUST', 'ADJUST2', 'B', 'D', 'S', "
    "'BANK CHARGES', 'AMAZONFEE', 'CRUK', 'PADS', 'TEST001', 'TEST002') or upper(stock_code) like 'GIFT%'"
)
BRONZE_DISTINCT_LINES = """
    select distinct trim(invoice_no) as invoice_no, upper(trim(stock_code)) as stock_code,
        trim(description) as description, quantity, invoice_date,
        cast(round(unit_price, 3) as decimal(18, 3)) as unit_price,
        nullif(regexp_replace(trim(customer_id), '[.]0+$', ''), '') as customer_id, trim(country) as country
    from bronze.raw_invoices
"""


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
    started = time.perf_counter()
    run_dbt(["build"], settings, {"as_of": AS_OF})
    print(f"dbt build on the real data: {time.perf_counter() - started:.1f} s")
    return settings


def fetch(settings: Settings, sql: str) -> tuple:
    with connect(settings, read_only=True) as con:
        return con.execute(sql).fetchone()


def scalar(settings: Settings, sql: str):
    return fetch(settings, sql)[0]


def test_facts_plus_excluded_equal_bronze_exactly(warehouse: Settings):
    bronze = scalar(warehouse, "select count(*) from bronze.raw_invoices")
    facts = scalar(warehouse, "select count(*) from gold.fct_invoices")
    excluded = scalar(warehouse, "select count(*) from silver.int_invoice_lines_excluded")
    assert bronze == 541_909 + 525_461
    assert facts + excluded == bronze
    # and individually: every bronze row has its classified row, and the facts are the unexcluded ones
    assert fetch(
        warehouse,
        """
        select
            (select count(*) from silver.int_invoice_lines_classified),
            (select count(*) from bronze.raw_invoices as b where not exists (
                select 1 from silver.int_invoice_lines_classified as c
                where c._load_id = b._load_id and c._source_file = b._source_file
                    and c._source_row = b._source_row
            )),
            (select count(*) from gold.fct_invoices as f where not exists (
                select 1 from silver.int_invoice_lines_classified as c
                where c.invoice_line_id = f.invoice_line_id and c._load_id = f._load_id
                    and c.exclusion_reason is null
            ))
        """,
    ) == (bronze, 0, 0)


def test_the_overlap_of_the_two_files_counts_once(warehouse: Settings):
    overlap_in_ii, overlap_ii_excluded_as_duplicate = fetch(
        warehouse,
        f"""
        select
            (select count(*) from bronze.raw_invoices where _source_file = '{ONLINE_RETAIL_II}'
                and cast(invoice_date as date) between date '2010-12-01' and date '2010-12-09'),
            (select count(*) from silver.int_invoice_lines_excluded where _source_file = '{ONLINE_RETAIL_II}'
                and invoice_date between date '2010-12-01' and date '2010-12-09'
                and exclusion_reason = 'duplicate')
        """,
    )
    kept_from_ii = scalar(
        warehouse,
        "select count(*) from silver.int_invoice_lines_classified "
        f"where _source_file = '{ONLINE_RETAIL_II}' and not is_duplicate "
        "and invoice_date between date '2010-12-01' and date '2010-12-09'",
    )
    assert overlap_in_ii == 22_523
    # Online Retail was loaded first: every overlapping line of Online Retail II is its duplicate
    assert overlap_ii_excluded_as_duplicate == 22_523
    assert kept_from_ii == 0


def test_gold_revenue_reconciles_to_the_cent_with_the_valid_bronze_lines(warehouse: Settings):
    expected_lines, expected_revenue = fetch(
        warehouse,
        f"""
        select count(*), sum(cast(quantity * unit_price as decimal(18, 3)))
        from ({BRONZE_DISTINCT_LINES})
        where customer_id is not null and unit_price > 0 and not ({NON_PRODUCT})
        """,
    )
    actual_lines, actual_revenue = fetch(warehouse, "select count(*), sum(revenue) from gold.fct_invoices")
    assert (actual_lines, actual_revenue) == (expected_lines, expected_revenue)
    assert actual_revenue == Decimal("16358629.290")  # the README's figure


def test_sales_reports_reconcile_with_the_valid_bronze_lines_guests_included(warehouse: Settings):
    expected = scalar(
        warehouse,
        f"""
        select sum(cast(quantity * unit_price as decimal(18, 3)))
        from ({BRONZE_DISTINCT_LINES})
        where unit_price > 0 and not ({NON_PRODUCT}) and cast(invoice_date as date) <= date '{AS_OF}'
        """,
    )
    for report in (
        "report_sales",
        "report_year_invoices",
        "report_country_customers",
        "report_product_invoices",
    ):
        assert scalar(warehouse, f"select sum(net_revenue) from gold.{report}") == expected, report
    assert scalar(warehouse, "select sum(revenue) from gold.report_transactions") == expected


def test_every_exclusion_has_a_reason(warehouse: Settings):
    with connect(warehouse, read_only=True) as con:
        reasons = dict(
            con.execute(
                "select exclusion_reason, count(*) from silver.int_invoice_lines_excluded group by 1"
            ).fetchall()
        )
    print(f"excluded by reason: {reasons}")
    # the README's figures; duplicates = Online Retail II's 22,523 lines of the overlap + Online Retail's own
    # 5,268 exact copies + Online Retail II's own 6,544
    assert reasons == {
        "missing_customer": 235_151,
        "duplicate": 34_335,
        "non_product": 3_659,
        "invalid_price": 60,
    }
    assert scalar(warehouse, "select count(*) from gold.fct_invoices") == 794_165


def test_online_retail_oracle_figures_hold_in_silver(warehouse: Settings):
    """The README's facts about Online Retail, on its lines in silver (cleaned, before any exclusion)."""
    assert fetch(
        warehouse,
        f"""
        select count(*), count(distinct invoice_no), count(distinct customer_id), count(distinct country),
            count(*) filter (where is_cancellation),
            count(distinct invoice_no) filter (where is_cancellation),
            sum(quantity), sum(revenue)
        from silver.stg_bronze__invoice_lines where _source_file = '{ONLINE_RETAIL}'
        """,
    ) == (541_909, 25_900, 4_372, 38, 9_288, 3_836, 5_176_450, Decimal("9747747.934"))
    # it was loaded first, so its own exact copies are the only duplicates excluded from it
    assert (
        scalar(
            warehouse,
            f"select count(*) from silver.int_invoice_lines_excluded where _source_file = '{ONLINE_RETAIL}' "
            "and exclusion_reason = 'duplicate'",
        )
        == 5_268
    )


def test_online_retail_ii_oracle_figures_hold_in_silver(warehouse: Settings):
    assert fetch(
        warehouse,
        f"""
        select count(*), count(distinct invoice_no), count(distinct customer_id),
            count(*) filter (where customer_id is null)
        from silver.stg_bronze__invoice_lines where _source_file = '{ONLINE_RETAIL_II}'
        """,
    ) == (525_461, 28_816, 4_383, 107_927)


def test_dim_customer_covers_every_fact_customer_and_their_revenue(warehouse: Settings):
    facts = fetch(warehouse, "select count(distinct customer_id), sum(revenue) from gold.fct_invoices")
    dims = fetch(warehouse, "select count(*), sum(lifetime_net_revenue) from gold.dim_customer")
    customer = fetch(
        warehouse,
        "select country, lifetime_orders, lifetime_net_revenue from gold.dim_customer "
        "where customer_id = '12346'",
    )
    assert dims == facts
    # 12346 bought 74,215 units on 2011-01-18 and cancelled them at once; with Online Retail II's year
    # before, three orders remain, netting 169.36.
    assert customer == ("United Kingdom", 3, Decimal("169.360"))


# dim_product as the sales lines give it, written out here (the model sums its per-load rollup)
PRODUCTS_FROM_LINES = """
    with
    ranked as (
        select stock_code, description,
            row_number() over (
                partition by stock_code order by count(*) desc, max(invoiced_at) desc, description
            ) as rank
        from silver.int_sales_lines
        where description is not null and description <> ''
        group by stock_code, description
    ),
    totals as (
        select stock_code, count(*) as line_count, min(unit_price) as min_unit_price,
            max(unit_price) as max_unit_price, cast(avg(unit_price) as decimal(18, 3)) as avg_unit_price,
            min(invoiced_at) as first_sold_at, max(invoiced_at) as last_sold_at
        from silver.int_sales_lines
        group by stock_code
    )
    select totals.*, ranked.description
    from totals left join ranked on totals.stock_code = ranked.stock_code and ranked.rank = 1
"""


def test_dim_product_equals_its_figures_over_the_sales_lines(warehouse: Settings):
    products = (
        "select stock_code, line_count, min_unit_price, max_unit_price, avg_unit_price, first_sold_at, "
        "last_sold_at, description from gold.dim_product"
    )
    assert scalar(warehouse, "select count(*) from gold.dim_product") > 4000
    for first, second in ((products, PRODUCTS_FROM_LINES), (PRODUCTS_FROM_LINES, products)):
        assert scalar(warehouse, f"select count(*) from (({first}) except all ({second}))") == 0
