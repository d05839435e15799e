"""fct_invoices, the invoice rollup and the silver tables they stand on, customer_activity_days and the
product-day rollup build incrementally on new loads, and a full refresh gives the very same rows."""

from __future__ import annotations

import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cltv.config import Settings
from cltv.dbt_runner import run_dbt
from cltv.ingest import ingest_landing
from cltv.warehouse import connect
from tests.dbt.conftest import line, query, write_bronze

pytestmark = pytest.mark.slow

COMPARED = (
    "silver.int_invoice_lines_classified",
    "silver.int_invoice_lines_excluded",
    "silver.int_invoices_aggregated",
    "gold.fct_invoices",
)
SELECT = "+fct_invoices +int_invoice_lines_excluded +int_invoices_aggregated"
BUILD = ("build", "--indirect-selection", "cautious")


def snapshot(settings: Settings) -> None:
    """Copy the compared tables to schema `incremental` for comparison after a full refresh."""
    with connect(settings) as con:
        con.execute("create schema if not exists incremental")
        for table in COMPARED:
            name = table.split(".")[1]
            con.execute(f"create or replace table incremental.{name} as select * from {table}")


def differences(settings: Settings) -> dict[str, tuple[int, int, int]]:
    """Per table: rows, rows only in the incremental build, rows only in the full refresh."""
    result = {}
    for table in COMPARED:
        copy = f"incremental.{table.split('.')[1]}"
        result[table] = query(
            settings,
            f"select (select count(*) from {table}), "
            f"(select count(*) from (select * from {copy} except all select * from {table})), "
            f"(select count(*) from (select * from {table} except all select * from {copy}))",
        )[0]
    return result


def test_incremental_builds_equal_a_full_refresh_on_literal_lines(settings: Settings, dbt_build):
    first = line("536365", "17850.0", "2010-12-01 08:26:00")
    write_bronze(
        settings,
        [
            first,
            first,
            line("536366", None, "2010-12-01 08:28:00"),
            line("536367", "13047", "2010-12-01 09:00:00"),
        ],
        "file-1.csv",
        loaded_at=datetime(2020, 1, 1),
    )
    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)
    assert query(settings, "select count(*) from gold.fct_invoices") == [(2,)]

    # the second file repeats a line of the first and brings a new one
    write_bronze(
        settings,
        [first, line("C536368", "13047", "2010-12-02 10:00:00", quantity=-1)],
        "file-2.csv",
        loaded_at=datetime(2020, 1, 2),
    )
    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)
    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)  # nothing new: nothing added
    assert query(settings, "select invoice_no, _load_id from gold.fct_invoices order by 1") == [
        ("536365", "load-file-1.csv"),
        ("536367", "load-file-1.csv"),
        ("C536368", "load-file-2.csv"),
    ]
    snapshot(settings)

    dbt_build({"as_of": "2010-12-31"}, command=(*BUILD, "--full-refresh"), select=SELECT)

    assert differences(settings) == {
        "silver.int_invoice_lines_classified": (6, 0, 0),
        "silver.int_invoice_lines_excluded": (3, 0, 0),
        "silver.int_invoices_aggregated": (4, 0, 0),
        "gold.fct_invoices": (3, 0, 0),
    }


INVOICE_LINE_COUNTS = "select invoice_no, line_count from silver.int_invoices_aggregated order by 1"
INVOICES = (
    "select invoice_no, customer_id, first_invoiced_at, last_invoiced_at, line_count, product_count, "
    "quantity, revenue from silver.int_invoices_aggregated order by 1"
)


def test_an_invoice_split_across_two_loads_is_aggregated_whole_once(settings: Settings, dbt_build):
    """The second file brings one more line of an invoice of the first (and repeats one of its lines): the
    incremental run aggregates that invoice again from both files' lines, neither dropping the first
    file's lines nor counting them twice, and leaves the table a full refresh builds."""
    first_line = line("536400", "13047", "2010-12-01 08:00:00", quantity=2)
    write_bronze(
        settings,
        [first_line, line("536401", None, "2010-12-01 09:00:00")],
        "file-1.csv",
        loaded_at=datetime(2020, 1, 1),
    )
    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)
    write_bronze(
        settings,
        [first_line, line("536400", "13047", "2010-12-01 08:01:00", stock_code="22728", unit_price=5.0)],
        "file-2.csv",
        loaded_at=datetime(2020, 1, 2),
    )
    built = dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)

    # the incremental run looks up the invoices of the new load only
    assert "_load_id in ('load-file-2.csv')" in compiled_sql(built, "int_invoices_aggregated")
    eight, one_past_eight, nine = (
        datetime(2010, 12, 1, 8),
        datetime(2010, 12, 1, 8, 1),
        datetime(2010, 12, 1, 9),
    )
    split_invoice = ("536400", "13047", eight, one_past_eight, 2, 2, 3, Decimal("25.000"))
    guest_invoice = ("536401", None, nine, nine, 1, 1, 1, Decimal("10.000"))
    assert query(settings, INVOICES) == [split_invoice, guest_invoice]
    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)  # nothing new: the same rows
    assert query(settings, INVOICES) == [split_invoice, guest_invoice]
    snapshot(settings)

    dbt_build({"as_of": "2010-12-31"}, command=(*BUILD, "--full-refresh"), select=SELECT)

    assert differences(settings)["silver.int_invoices_aggregated"] == (2, 0, 0)


def test_the_lines_reread_for_a_touched_invoice_reach_back_to_its_stored_first_line(
    settings: Settings, dbt_build
):
    """An incremental run re-reads only a period of the stored lines (zone maps): the new loads' period
    widened by the first and last line that the rollup already stores for each invoice they touch. Here the
    new load's lines start half an hour after the invoice's first line, which must still be counted."""
    write_bronze(
        settings,
        [line("536402", "13047", "2010-12-01 07:00:00")],
        "file-1.csv",
        loaded_at=datetime(2020, 1, 1),
    )
    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)
    write_bronze(
        settings,
        [
            line("536402", "13047", "2010-12-01 07:30:00", stock_code="22728", unit_price=5.0),
            line("536403", "13047", "2010-12-02 10:00:00"),
        ],
        "file-2.csv",
        loaded_at=datetime(2020, 1, 2),
    )
    built = dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)

    assert (
        "invoiced_at between timestamp '2010-12-01 07:00:00' and timestamp '2010-12-02 10:00:00'"
        in compiled_sql(built, "int_invoices_aggregated")
    )
    seven, half_past_seven, ten = (
        datetime(2010, 12, 1, 7),
        datetime(2010, 12, 1, 7, 30),
        datetime(2010, 12, 2, 10),
    )
    assert query(settings, INVOICES) == [
        ("536402", "13047", seven, half_past_seven, 2, 2, 2, Decimal("15.000")),
        ("536403", "13047", ten, ten, 1, 1, 1, Decimal("10.000")),
    ]
    snapshot(settings)
    dbt_build({"as_of": "2010-12-31"}, command=(*BUILD, "--full-refresh"), select=SELECT)
    assert differences(settings)["silver.int_invoices_aggregated"] == (2, 0, 0)


def test_a_load_stamped_like_the_last_one_aggregated_is_not_missed(settings: Settings, dbt_build):
    """Two loads with the same `_loaded_at`, built one after the other: the second is at the high-water mark,
    not after it, and its lines still reach the rollup, while the first is not read again."""
    write_bronze(settings, [line("536400", "13047", "2010-12-01 08:00:00")], "file-1.csv")
    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)
    write_bronze(
        settings,
        [
            line("536400", "13047", "2010-12-01 08:00:00", stock_code="22728"),
            line("536402", "12583", "2010-12-02"),
        ],
        "file-2.csv",
    )
    built = dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)

    assert "_load_id in ('load-file-2.csv')" in compiled_sql(built, "int_invoices_aggregated")
    assert query(settings, INVOICE_LINE_COUNTS) == [("536400", 2), ("536402", 1)]


def test_incremental_builds_equal_a_full_refresh_on_the_real_files(tmp_path, settings: Settings, real_data):
    """Online Retail II (2009-2010) first, then Online Retail (2010-2011), which repeats 22,523 lines."""
    for name, path in (("first", real_data["online_retail_ii"]), ("second", real_data["online_retail"])):
        landing = tmp_path / name
        landing.mkdir()
        shutil.copy(path, landing / path.name)
        ingest_landing(settings, run_id=name, landing_dir=landing)
        run_dbt([*BUILD, "--select", SELECT], settings, {"as_of": "2011-12-09"})
    snapshot(settings)

    run_dbt([*BUILD, "--full-refresh", "--select", SELECT], settings, {"as_of": "2011-12-09"})

    found = differences(settings)
    assert all(only_incremental == only_full == 0 for _, only_incremental, only_full in found.values()), found
    assert found["gold.fct_invoices"][0] > 700_000
    # the overlap is kept from the file loaded first, Online Retail II, this time: all 22,523 overlapping
    # lines of Online Retail (their own repeats included, as Online Retail II repeats them too) are duplicates
    assert query(
        settings,
        "select count(*) from silver.int_invoice_lines_excluded where exclusion_reason = 'duplicate' "
        "and _source_file = 'online_retail.parquet' and invoice_date <= date '2010-12-09'",
    ) == [(22_523,)]


NOVEMBER, DECEMBER = "2011-11-30", "2011-12-09"
# The incremental warehouse also keeps the earlier as_of's features, a full refresh only the run's own
# cutoffs, so features are compared at the run's cutoff. The segment history survives a full refresh
# (full_refresh=false): it and the transitions read from it are compared whole.
HISTORY_COLUMNS = {"gold.customer_features": "cutoff_date"}


def split_online_retail_at_december(online_retail: Path, november: Path, december: Path) -> None:
    """Online Retail up to 2011-11-30 in one file, its last days (2011-12-01 .. 09) in another."""
    with duckdb.connect() as con:
        for where, target in (("<", november), (">=", december)):
            con.execute(
                f"copy (select * from read_parquet('{online_retail}') "
                f"where InvoiceDate {where} timestamp '2011-12-01') to '{target}' (format parquet)"
            )


def relations(settings: Settings) -> list[str]:
    """Every table and view that dbt builds in silver and gold."""
    rows = query(
        settings,
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('silver', 'gold') order by 1",
    )
    return [name for (name,) in rows]


def comparable_select(settings: Settings, relation: str, schema: str | None = None) -> str:
    """`select` of a relation with doubles rounded to 9 decimals: parallel float sums may differ in the last
    bit between two builds of the same data, decimals and integers must match exactly."""
    table_schema, table = relation.split(".")
    columns = query(
        settings,
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = '{table_schema}' and table_name = '{table}' order by ordinal_position",
    )
    select = ", ".join(
        f'round("{name}", 9) as "{name}"' if data_type in ("DOUBLE", "FLOAT") else f'"{name}"'
        for name, data_type in columns
    )
    where = f" where {HISTORY_COLUMNS[relation]} = date '{DECEMBER}'" if relation in HISTORY_COLUMNS else ""
    return f"select {select} from {schema or table_schema}.{table}{where}"


def compiled_sql(result, model: str) -> str:
    [node_result] = [r for r in result.result.results if r.node.name == model]
    return node_result.node.compiled_code


def test_one_more_month_processes_only_the_new_load_and_equals_a_full_refresh(
    tmp_path, settings: Settings, real_data
):
    """Both files up to 2011-11-30 are built as of that date; then December 2011 arrives as one more file and
    the next run, as of 2011-12-09, reads only that load in its incremental models, keeps what they held, and
    leaves every silver and gold relation as a full refresh builds it."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    shutil.copy(real_data["online_retail_ii"], first)
    split_online_retail_at_december(
        real_data["online_retail"],
        first / "online_retail_to_2011_11.parquet",
        second / "online_retail_2011_12.parquet",
    )
    ingest_landing(settings, run_id="november", landing_dir=first)
    run_dbt(["run"], settings, {"as_of": NOVEMBER})
    with connect(settings) as con:
        con.execute("create schema before")
        con.execute("create table before.classified as select * from silver.int_invoice_lines_classified")
        con.execute("create table before.facts as select * from gold.fct_invoices")
        con.execute("create table before.transactions as select * from gold.report_transactions")

    ingest_landing(settings, run_id="december", landing_dir=second)
    [(december_load, december_lines)] = query(
        settings, "select load_id, rows_loaded from bronze.load_log where run_id = 'december'"
    )
    old_loads = [
        load for (load,) in query(settings, "select load_id from bronze.load_log where run_id <> 'december'")
    ]
    built = run_dbt(["build"], settings, {"as_of": DECEMBER})

    # the incremental models read the new load alone (the invoice rollup: the invoices it has lines of) ...
    for model in ("int_invoice_lines_classified", "fct_invoices", "int_invoices_aggregated"):
        sql = compiled_sql(built, model)
        assert f"_load_id in ('{december_load}')" in sql, model
        assert "(_loaded_at >= cast('" in sql, model  # so the scans skip the older loads' row groups
        assert not any(load in sql for load in old_loads), model
    # ... append exactly its lines, and leave the earlier rows as they were
    assert december_lines == 25_525  # Online Retail's lines dated 2011-12-01 .. 2011-12-09
    assert query(
        settings,
        f"""
        select
            (select count(*) from silver.int_invoice_lines_classified)
                - (select count(*) from before.classified),
            (select count(*) from (select * from before.classified except all
                select * from silver.int_invoice_lines_classified where _load_id <> '{december_load}')),
            (select count(*) from (select * from before.facts except all
                select * from gold.fct_invoices where _load_id <> '{december_load}')),
            (select count(*) from gold.fct_invoices where _load_id <> '{december_load}')
                - (select count(*) from before.facts),
            -- report_transactions carries no as_of: November's invoices keep their rows unchanged, so a
            -- publication rewrites December's month of it only
            (select count(*) from (select * from before.transactions except all
                select * from gold.report_transactions)),
            (select count(*) from gold.report_transactions) - (select count(*) from before.transactions)
                - (select count(distinct invoice_no) from silver.int_sales_lines
                   where _load_id = '{december_load}')
        """,
    ) == [(december_lines, 0, 0, 0, 0, 0)]
    # the earlier as_of's segments and features are kept beside the new ones
    assert query(
        settings,
        "select (select list(distinct as_of_date::varchar order by 1) from gold.rfm_segment_history), "
        "(select list(distinct cutoff_date::varchar order by 1) from gold.customer_features), "
        "(select distinct previous_as_of_date::varchar from gold.report_segment_transitions)",
    ) == [([NOVEMBER, DECEMBER], [NOVEMBER, DECEMBER], NOVEMBER)]

    compared = relations(settings)
    selects = {relation: comparable_select(settings, relation) for relation in compared}
    with connect(settings) as con:
        con.execute("create schema incremental")
        for relation, select in selects.items():
            con.execute(f"create table incremental.{relation.replace('.', '__')} as {select}")
    run_dbt(["run", "--full-refresh"], settings, {"as_of": DECEMBER})

    differences = {}
    for relation in compared:
        rebuilt = comparable_select(settings, relation)
        kept = f"select * from incremental.{relation.replace('.', '__')}"
        differences[relation] = query(
            settings,
            f"select (select count(*) from ({kept})), "
            f"(select count(*) from ({kept} except all {rebuilt})), "
            f"(select count(*) from ({rebuilt} except all {kept}))",
        )[0]
    assert len(compared) >= 19
    assert {relation: diff[1:] for relation, diff in differences.items()} == dict.fromkeys(compared, (0, 0))
    assert all(rows > 0 for rows, *_ in differences.values()), differences
    # a full refresh keeps the segment history (rfm_segment_history has full_refresh=false), so transitions
    # still read November's segments
    assert query(
        settings, "select distinct previous_as_of_date::varchar from gold.report_segment_transitions"
    ) == [(NOVEMBER,)]


# `run`, not `build`: an invoice whose lines name two customers (below) fails dim_customer's tests, but
# customer_activity_days must still come out as a full refresh builds it
ACTIVITY_SELECT = "+customer_activity_days"
RUN = ("run",)
ACTIVITY_DAYS = (
    "select customer_id, activity_date::varchar, orders, cancellations, net_revenue, new_products, "
    "days_since_previous_purchase, _load_id from gold.customer_activity_days order by 1, 2"
)


def activity_days_differences(settings: Settings) -> tuple[int, int, int]:
    """Rows of customer_activity_days, rows only in the copy `incremental.customer_activity_days`, rows only
    in the table."""
    table, copy = "gold.customer_activity_days", "incremental.customer_activity_days"
    return query(
        settings,
        f"select (select count(*) from {table}), "
        f"(select count(*) from (select * from {copy} except all select * from {table})), "
        f"(select count(*) from (select * from {table} except all select * from {copy}))",
    )[0]


def snapshot_activity_days(settings: Settings) -> None:
    with connect(settings) as con:
        con.execute("create schema if not exists incremental")
        con.execute(
            "create or replace table incremental.customer_activity_days as "
            "select * from gold.customer_activity_days"
        )


def test_customer_activity_days_recomputes_only_the_touched_customers_and_equals_a_full_refresh(
    settings: Settings, dbt_build
):
    """The second load brings a new customer, a new day and a cancellation of an existing customer, a late
    line to an invoice of the first load, a guest line on a customer's invoice (it changes that invoice's
    revenue, not the customer's lines) and a line of another customer on an invoice, which goes to the
    greater customer id and leaves its first customer with no day. The incremental run recomputes exactly
    those customers, keeps the others' rows untouched, and leaves the table a full refresh builds."""
    write_bronze(
        settings,
        [
            line("536400", "13047", "2010-12-01 08:00:00", stock_code="85123A"),
            line("536400", "13047", "2010-12-01 08:00:00", stock_code="22728", unit_price=5.0),
            line("536401", "13047", "2010-12-03 09:00:00", stock_code="85123A", quantity=2),
            line("536410", "12583", "2010-12-02 10:00:00", stock_code="85123A"),
            line("536420", "17850", "2010-12-02 11:00:00", stock_code="22728"),
            line("536430", "14000", "2010-12-05 12:00:00"),
            line("536440", "16000", "2010-12-06 13:00:00"),
            line("536450", None, "2010-12-06 14:00:00"),
        ],
        "file-1.csv",
        loaded_at=datetime(2020, 1, 1),
    )
    dbt_build({"as_of": "2010-12-31"}, command=RUN, select=ACTIVITY_SELECT)
    # a mark on a customer the second load does not touch: a run that rewrote its row would lose it
    with connect(settings) as con:
        con.execute(
            "update gold.customer_activity_days set country = 'untouched' where customer_id = '17850'"
        )

    write_bronze(
        settings,
        [
            line("536500", "15000", "2010-12-10 08:00:00"),  # a new customer
            line("536501", "13047", "2010-12-08 09:00:00", stock_code="22728"),  # a new day, a known product
            line("536501", "13047", "2010-12-08 09:00:00", stock_code="21730", unit_price=2.0),  # a new one
            line("C536502", "13047", "2010-12-09 10:00:00", quantity=-1),  # a cancellation
            # a late line of an invoice of the first load: a product new to its customer, on the same day
            line("536410", "12583", "2010-12-02 10:01:00", stock_code="22728", unit_price=5.0),
            line("536440", None, "2010-12-06 13:00:00", stock_code="21730", unit_price=3.0),  # a guest line
            line("536430", "19000", "2010-12-05 12:00:00", stock_code="22728"),  # takes 14000's invoice
        ],
        "file-2.csv",
        loaded_at=datetime(2020, 1, 2),
    )
    built = dbt_build({"as_of": "2010-12-31"}, command=RUN, select=ACTIVITY_SELECT)

    sql = compiled_sql(built, "customer_activity_days")
    assert "_load_id in ('load-file-2.csv')" in sql
    assert "load-file-1.csv" not in sql
    # the touched customers' lines lie in the second load's invoices' period
    assert "invoiced_at between timestamp '2010-12-02 10:00:00' and timestamp '2010-12-10 08:00:00'" in sql
    assert query(settings, "select country from gold.customer_activity_days where customer_id = '17850'") == [
        ("untouched",)
    ]
    first, second = "load-file-1.csv", "load-file-2.csv"
    assert query(settings, ACTIVITY_DAYS) == [
        ("12583", "2010-12-02", 1, 0, Decimal("15.000"), 2, None, second),
        ("13047", "2010-12-01", 1, 0, Decimal("15.000"), 2, None, first),
        ("13047", "2010-12-03", 1, 0, Decimal("20.000"), 0, 2, first),
        ("13047", "2010-12-08", 1, 0, Decimal("12.000"), 1, 5, second),
        ("13047", "2010-12-09", 0, 1, Decimal("-10.000"), 0, None, second),
        ("15000", "2010-12-10", 1, 0, Decimal("10.000"), 1, None, second),
        ("16000", "2010-12-06", 1, 0, Decimal("13.000"), 1, None, second),
        ("17850", "2010-12-02", 1, 0, Decimal("10.000"), 1, None, first),
        ("19000", "2010-12-05", 1, 0, Decimal("20.000"), 1, None, second),
    ]
    with connect(settings) as con:
        con.execute(
            "update gold.customer_activity_days set country = 'United Kingdom' where customer_id = '17850'"
        )
    # nothing new: nothing recomputed, the same rows
    built = dbt_build({"as_of": "2010-12-31"}, command=RUN, select=ACTIVITY_SELECT)
    assert "invoiced_at between null and null" in compiled_sql(built, "customer_activity_days")
    snapshot_activity_days(settings)

    dbt_build({"as_of": "2010-12-31"}, command=(*RUN, "--full-refresh"), select=ACTIVITY_SELECT)

    assert activity_days_differences(settings) == (9, 0, 0)


def test_customer_activity_days_built_as_a_table_is_recomputed_whole_on_its_first_incremental_run(
    settings: Settings, dbt_build
):
    """A warehouse whose customer_activity_days was built before the model was incremental has no
    high-water mark (`_loaded_at`): the next run recomputes every customer, adds the two columns, and leaves
    the table a full refresh builds."""
    write_bronze(
        settings,
        [line("536400", "13047", "2010-12-01 08:00:00"), line("536410", "12583", "2010-12-02 10:00:00")],
        "file-1.csv",
        loaded_at=datetime(2020, 1, 1),
    )
    dbt_build({"as_of": "2010-12-31"}, command=RUN, select=ACTIVITY_SELECT)
    with connect(settings) as con:
        con.execute("alter table gold.customer_activity_days drop column _load_id")
        con.execute("alter table gold.customer_activity_days drop column _loaded_at")
        # a row no full build gives: the first incremental run must not keep it
        con.execute(
            "insert into gold.customer_activity_days (customer_id, activity_date, orders, cancellations, "
            "net_revenue, new_products, is_purchase_day) "
            "values ('99999', date '2010-12-01', 1, 0, 1, 0, true)"
        )
    write_bronze(
        settings,
        [line("536500", "15000", "2010-12-10 08:00:00")],
        "file-2.csv",
        loaded_at=datetime(2020, 1, 2),
    )
    dbt_build({"as_of": "2010-12-31"}, command=RUN, select=ACTIVITY_SELECT)

    assert query(settings, "select customer_id, _load_id from gold.customer_activity_days order by 1") == [
        ("12583", "load-file-1.csv"),
        ("13047", "load-file-1.csv"),
        ("15000", "load-file-2.csv"),
    ]
    snapshot_activity_days(settings)
    dbt_build({"as_of": "2010-12-31"}, command=(*RUN, "--full-refresh"), select=ACTIVITY_SELECT)
    assert activity_days_differences(settings) == (3, 0, 0)


PRODUCT_SELECT = "+report_product_invoices"
PRODUCT_ROLLUPS = ("silver.int_product_days_aggregated", "silver.int_product_customers_aggregated")
# the report's counts as the lines give them: distinct invoices and customers per product up to as_of
PRODUCT_COUNTS_FROM_LINES = """
    select
        stock_code,
        count(distinct case when not is_cancellation then invoice_no end),
        count(distinct case when is_cancellation then invoice_no end),
        count(distinct customer_id),
        sum(case when not is_cancellation then quantity else 0 end),
        -sum(case when is_cancellation then quantity else 0 end),
        sum(revenue)
    from silver.int_sales_lines
    where invoice_date <= date '{as_of}'
    group by stock_code
    order by stock_code
"""
PRODUCT_COUNTS = (
    "select stock_code, invoice_count, cancellation_count, customer_count, quantity_sold, quantity_returned, "
    "net_revenue from gold.report_product_invoices order by stock_code"
)


def product_rollups(settings: Settings) -> dict[str, list[tuple]]:
    return {table: query(settings, f"select * from {table} order by all") for table in PRODUCT_ROLLUPS}


def test_product_rollups_rebuild_what_new_lines_change_and_the_report_counts_distinct_as_of_any_date(
    settings: Settings, dbt_build
):
    """int_product_days_aggregated counts each invoice on the first day it had a product;
    int_product_customers_aggregated keeps each customer's first day with a product. The second load brings
    lines dated from 2010-11-29, so the days from then on are rebuilt: an invoice that had the product
    earlier (536300, from 2010-11-27 23:59, which straddles that day) must not count again, and its earlier
    line is found by reading back to its first line time only; a customer who had the product earlier
    (13047, from 2010-11-01) keeps that day, and a customer's line dated before their first one (12583's
    85123A, from 2010-12-02 to 2010-11-29) moves the pair's day earlier. The report equals the distinct
    counts over the lines for every as_of, a run with nothing new changes nothing, and both rollups equal a
    full refresh."""
    write_bronze(
        settings,
        [
            line("536200", "13047", "2010-11-01 08:00:00", stock_code="85123A"),
            line("536300", "17850", "2010-11-27 23:59:00", stock_code="22728"),
            line("536400", "13047", "2010-12-01 08:00:00", stock_code="85123A", quantity=2),
            line("536400", "13047", "2010-12-01 08:00:00", stock_code="22728"),
            line("536410", "12583", "2010-12-02 10:00:00", stock_code="85123A"),
            line("536450", None, "2010-12-02 11:00:00", stock_code="22728"),
            line("C536460", "12583", "2010-12-04 10:00:00", stock_code="85123A", quantity=-1),
        ],
        "file-1.csv",
        loaded_at=datetime(2020, 1, 1),
    )
    dbt_build({"as_of": "2010-12-31"}, command=RUN, select=PRODUCT_SELECT)
    write_bronze(
        settings,
        [
            line("536380", "12583", "2010-11-29 09:00:00", stock_code="85123A"),  # before 12583's first
            line("536300", "17850", "2010-11-30 00:01:00", stock_code="22728"),  # its invoice began 11-27
            line("536401", "13047", "2010-12-03 09:00:00", stock_code="85123A"),  # 13047 had it on 11-01
            line("536500", "15000", "2010-12-10 08:00:00", stock_code="85123A"),  # a new customer
            line("536501", None, "2010-12-10 09:00:00", stock_code="21730", unit_price=2.0),  # a new product
            line("C536502", "15000", "2010-12-11 10:00:00", stock_code="85123A", quantity=-1),
        ],
        "file-2.csv",
        loaded_at=datetime(2020, 1, 2),
    )
    built = dbt_build({"as_of": "2010-12-31"}, command=RUN, select=PRODUCT_SELECT)

    # the first day of the new load's lines, and the first line time of the invoice that straddles it
    days_sql = compiled_sql(built, "int_product_days_aggregated")
    assert "where invoice_date >= date '2010-11-29'" in days_sql
    assert "invoiced_at >= timestamp '2010-11-27 23:59:00' and invoice_date < date '2010-11-29'" in days_sql
    assert "_load_id in ('load-file-2.csv')" in compiled_sql(built, "int_product_customers_aggregated")
    assert query(
        settings,
        "select stock_code, invoice_date::varchar, first_invoices, first_cancellations "
        "from silver.int_product_days_aggregated where stock_code in ('85123A', '22728') order by 1, 2",
    ) == [
        ("22728", "2010-11-27", 1, 0),
        ("22728", "2010-11-30", 0, 0),  # 536300's second line: the invoice counted on 11-27
        ("22728", "2010-12-01", 1, 0),
        ("22728", "2010-12-02", 1, 0),
        ("85123A", "2010-11-01", 1, 0),
        ("85123A", "2010-11-29", 1, 0),
        ("85123A", "2010-12-01", 1, 0),
        ("85123A", "2010-12-02", 1, 0),
        ("85123A", "2010-12-03", 1, 0),
        ("85123A", "2010-12-04", 0, 1),
        ("85123A", "2010-12-10", 1, 0),
        ("85123A", "2010-12-11", 0, 1),
    ]
    assert query(
        settings,
        "select stock_code, customer_id, first_bought_date::varchar, _load_id "
        "from silver.int_product_customers_aggregated order by 1, 2",
    ) == [
        ("22728", "13047", "2010-12-01", "load-file-1.csv"),
        ("22728", "17850", "2010-11-27", "load-file-2.csv"),  # read again, its day kept
        ("85123A", "12583", "2010-11-29", "load-file-2.csv"),  # moved from 2010-12-02
        ("85123A", "13047", "2010-11-01", "load-file-2.csv"),
        ("85123A", "15000", "2010-12-10", "load-file-2.csv"),
    ]
    for as_of in ("2010-11-28", "2010-11-30", "2010-12-02", "2010-12-10", "2010-12-31"):
        dbt_build({"as_of": as_of}, command=RUN, select="report_product_invoices")
        assert query(settings, PRODUCT_COUNTS) == query(
            settings, PRODUCT_COUNTS_FROM_LINES.format(as_of=as_of)
        )
    assert query(settings, PRODUCT_COUNTS) == [
        ("21730", 1, 0, 0, 1, 0, Decimal("2.000")),
        ("22728", 3, 0, 2, 4, 0, Decimal("40.000")),  # a guest's invoice is an invoice
        ("85123A", 6, 2, 3, 7, 2, Decimal("50.000")),
    ]

    incremental = product_rollups(settings)
    dbt_build({"as_of": "2010-12-31"}, command=RUN, select=PRODUCT_SELECT)  # nothing new
    assert product_rollups(settings) == incremental
    dbt_build(
        {"as_of": "2010-12-31"},
        command=(*RUN, "--full-refresh"),
        select=" ".join(table.split(".")[1] for table in PRODUCT_ROLLUPS),
    )
    assert product_rollups(settings) == incremental
    assert [len(rows) for rows in incremental.values()] == [13, 5]


def test_a_pairs_table_built_before_pairs_had_a_key_gets_it_and_still_keeps_each_first_day(
    settings: Settings, dbt_build
):
    """int_product_customers_aggregated matches new pairs with stored ones on product_customer_id. A table
    from an older cltv has no such column: the next incremental run adds it, keyed from each stored row,
    and then moves a pair's day earlier, adds a new pair and keeps the others, as a full refresh has them."""
    write_bronze(
        settings,
        [
            line("536200", "13047", "2010-11-01 08:00:00", stock_code="85123A"),
            line("536410", "12583", "2010-12-02 10:00:00", stock_code="85123A"),
        ],
        "file-1.csv",
        loaded_at=datetime(2020, 1, 1),
    )
    dbt_build({"as_of": "2010-12-31"}, command=RUN, select="+int_product_customers_aggregated")
    with connect(settings) as con:  # as an older cltv built it
        con.execute("alter table silver.int_product_customers_aggregated drop column product_customer_id")
    write_bronze(
        settings,
        [
            line("536380", "12583", "2010-11-29 09:00:00", stock_code="85123A"),  # before 12583's first
            line("536500", "15000", "2010-12-10 08:00:00", stock_code="85123A"),  # a new customer
        ],
        "file-2.csv",
        loaded_at=datetime(2020, 1, 2),
    )
    dbt_build({"as_of": "2010-12-31"}, command=RUN, select="+int_product_customers_aggregated")

    pairs = (
        "select stock_code, customer_id, first_bought_date::varchar, "
        "product_customer_id = cast('0x' || md5(stock_code || '|' || customer_id) as uhugeint) "
        "from silver.int_product_customers_aggregated order by 1, 2"
    )
    incremental = query(settings, pairs)
    assert incremental == [
        ("85123A", "12583", "2010-11-29", True),  # moved from 2010-12-02, one row
        ("85123A", "13047", "2010-11-01", True),  # a stored pair, keyed in place
        ("85123A", "15000", "2010-12-10", True),
    ]
    dbt_build(
        {"as_of": "2010-12-31"}, command=(*RUN, "--full-refresh"), select="int_product_customers_aggregated"
    )
    assert query(settings, pairs) == incremental
