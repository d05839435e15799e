"""customer_features: hand-computed point-in-time features, labels, no leakage, incremental cutoffs."""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

import pytest

from cltv.dbt_runner import DbtError
from cltv.warehouse import connect
from tests.dbt.conftest import line, query, write_bronze

SELECT = "+customer_features"
# build with the data tests of the selected models only (not those of other models that ref them)
BUILD = ("build", "--indirect-selection", "cautious")
FEATURE_COLUMNS = (
    "customer_id, cutoff_date, country, recency_days, frequency, monetary, tenure_days, ipt_mean_days, "
    "ipt_std_days, revenue_30d, revenue_90d, revenue_180d, revenue_365d, orders_30d, orders_90d, "
    "orders_180d, orders_365d, trend_revenue_30d, trend_orders_30d, trend_revenue_90d, trend_orders_90d, "
    "trend_revenue_180d, trend_orders_180d, trend_revenue_365d, trend_orders_365d, "
    "spend_per_day, basket_value_mean, basket_value_max, "
    "basket_items_mean, "
    "distinct_products, return_rate, seasonal_share, frequency_repeat_days, recency_bgnbd_days, "
    "revenue_last_year_window, orders_last_year_window, horizon_days"
)

# Customer 1 buys on four days up to the 2011-03-31 cutoff (one line on the cutoff day itself), returns one
# item, and buys twice inside the 90-day label window (2011-04-01 .. 2011-06-29) and once just after it.
# Customer 3 bought once in December 2010. Customer 2 first buys after the cutoff.
LINES = [
    line("100", "1", "2011-01-03 09:00", quantity=2, unit_price=10.0, stock_code="10001"),
    line("100", "1", "2011-01-03 09:00", quantity=1, unit_price=5.0, stock_code="10002"),
    line("101", "1", "2011-01-13 10:00", quantity=4, unit_price=10.0, stock_code="10001"),
    line("C102", "1", "2011-01-20 11:00", quantity=-1, unit_price=10.0, stock_code="10001"),
    line("103", "1", "2011-03-14 12:00", quantity=1, unit_price=100.0, stock_code="10003"),
    line("104", "1", "2011-03-31 23:59", quantity=5, unit_price=2.0, stock_code="10004"),
    line("105", "1", "2011-04-01 00:00", quantity=3, unit_price=10.0, stock_code="10001"),
    line("106", "1", "2011-06-29 18:00", quantity=1, unit_price=7.0, stock_code="10001"),
    line("107", "1", "2011-06-30 08:00", quantity=1, unit_price=1000.0, stock_code="10001"),
    line("200", "2", "2011-04-02 10:00", quantity=1, unit_price=50.0, stock_code="10001"),
    line("300", "3", "2010-12-15 10:00", quantity=1, unit_price=20.0, stock_code="10001", country="France"),
]


def features(settings, where: str = "true") -> dict[tuple[str, str], dict]:
    names = [c.strip() for c in (FEATURE_COLUMNS + ", label_revenue, label_orders").split(",")]
    rows = query(settings, f"select {', '.join(names)} from gold.customer_features where {where}")
    return {(row[0], str(row[1])): dict(zip(names, row, strict=True)) for row in rows}


def test_hand_computed_features_and_labels(settings, dbt_build):
    write_bronze(settings, LINES)
    dbt_build(
        {"as_of": "2011-06-30", "horizon_days": 90, "feature_cutoffs": ["2011-03-31", "2011-04-30"]},
        command=BUILD,
        select=SELECT,
    )
    rows = features(settings)
    assert set(rows) == {
        ("1", "2011-03-31"),
        ("3", "2011-03-31"),
        ("1", "2011-04-30"),
        ("2", "2011-04-30"),
        ("3", "2011-04-30"),
    }

    one = rows[("1", "2011-03-31")]
    gaps = [10, 60, 17]  # 01-03 -> 01-13 -> 03-14 -> 03-31
    assert one["recency_days"] == 0  # bought on the cutoff day: the whole day counts as past
    assert one["frequency"] == 4  # the cancellation is not an order
    assert one["monetary"] == Decimal("165.000")  # 25 + 40 - 10 + 100 + 10
    assert one["tenure_days"] == 87
    assert one["ipt_mean_days"] == pytest.approx(statistics.mean(gaps))
    assert one["ipt_std_days"] == pytest.approx(statistics.pstdev(gaps))
    assert (one["revenue_30d"], one["orders_30d"]) == (Decimal("110.000"), 2)  # 03-02 .. 03-31
    assert (one["revenue_90d"], one["orders_90d"]) == (Decimal("165.000"), 4)  # 2011-01-01 .. 03-31
    assert (one["revenue_365d"], one["orders_365d"]) == (Decimal("165.000"), 4)
    assert (one["trend_revenue_90d"], one["trend_orders_90d"]) == (
        Decimal("165.000"),
        4,
    )  # none 10-03 .. 12-31
    assert (one["trend_revenue_30d"], one["trend_orders_30d"]) == (
        Decimal("110.000"),
        2,
    )  # none 01-31 .. 03-01
    assert one["spend_per_day"] == Decimal("1.875")  # 165 / 88 days
    assert one["basket_value_mean"] == Decimal("43.750")  # (25 + 40 + 100 + 10) / 4
    assert one["basket_value_max"] == Decimal("100.000")
    assert one["basket_items_mean"] == pytest.approx(13 / 4)
    assert one["distinct_products"] == 4
    assert one["return_rate"] == pytest.approx(10 / 175)
    assert one["seasonal_share"] == 0
    assert (one["frequency_repeat_days"], one["recency_bgnbd_days"]) == (3, 87)
    assert one["horizon_days"] == 90
    # label window 2011-04-01 .. 2011-06-29 lies inside as_of: 30 + 7, not the 1000 of 2011-06-30
    assert (one["label_revenue"], one["label_orders"]) == (Decimal("37.000"), 2)

    three = rows[("3", "2011-03-31")]
    assert (three["recency_days"], three["tenure_days"], three["frequency"]) == (106, 106, 1)
    assert three["ipt_mean_days"] is None
    assert three["ipt_std_days"] is None
    assert (three["revenue_30d"], three["revenue_365d"]) == (Decimal("0.000"), Decimal("20.000"))
    assert three["seasonal_share"] == 1
    # its one purchase (2010-12-15) is in the 90 days before the last 90, and within the last 180 and 365
    assert [(three[f"trend_revenue_{d}d"], three[f"trend_orders_{d}d"]) for d in (30, 90, 180, 365)] == [
        (Decimal("0.000"), 0),
        (Decimal("-20.000"), -1),
        (Decimal("20.000"), 1),
        (Decimal("20.000"), 1),
    ]
    assert three["country"] == "France"
    assert (three["label_revenue"], three["label_orders"]) == (Decimal("0.000"), 0)  # covered, no purchase

    # 2011-04-30 + 90 days is after as_of: the window is not covered, labels are null
    assert all(
        r["label_revenue"] is None and r["label_orders"] is None
        for (_, cutoff), r in rows.items()
        if cutoff == "2011-04-30"
    )
    later = rows[("1", "2011-04-30")]
    assert later["frequency"] == 5
    # 30 on 04-01 in 04-01 .. 04-30, against 110 and two orders in 03-02 .. 03-31
    assert (later["revenue_30d"], later["trend_revenue_30d"], later["trend_orders_30d"]) == (
        Decimal("30.000"),
        Decimal("-80.000"),
        -1,
    )


def test_lines_after_a_cutoff_change_nothing_in_its_features(settings, dbt_build):
    dbt_vars = {"as_of": "2011-09-30", "horizon_days": 90, "feature_cutoffs": ["2011-03-31"]}
    write_bronze(settings, LINES)
    dbt_build(dbt_vars, command=BUILD, select=SELECT)
    before = features(settings)

    # After the cutoff: a new customer, purchases of known customers from another country, and lines after the
    # label window (2011-06-30 on) must change nothing; features also ignore the label window itself.
    write_bronze(
        settings,
        [
            line("900", "9", "2011-04-01 00:00", quantity=10, unit_price=10.0),
            line(
                "901",
                "3",
                "2011-06-30 10:00",
                quantity=5,
                unit_price=10.0,
                stock_code="10006",
                country="Spain",
            ),
            line("C902", "1", "2011-07-01 10:00", quantity=-1, unit_price=100.0, stock_code="10003"),
            line(
                "903",
                "1",
                "2011-09-30 10:00",
                quantity=1,
                unit_price=99.0,
                stock_code="10005",
                country="Spain",
            ),
        ],
        source_file="later.csv",
    )
    dbt_build(dbt_vars, command=("run",), select=SELECT)
    after = features(settings)
    assert ("9", "2011-03-31") not in after
    assert after == before

    # A line inside the window moves only the labels.
    write_bronze(settings, [line("904", "3", "2011-06-29 10:00", quantity=2, unit_price=10.0)], "window.csv")
    dbt_build(dbt_vars, command=("run",), select=SELECT)
    inside = features(settings)
    for key, row in before.items():
        expected = dict(row)
        if key == ("3", "2011-03-31"):
            expected.update(label_revenue=Decimal("20.000"), label_orders=1)
        assert inside[key] == expected


def cutoff_counts(settings) -> dict[str, int]:
    return dict(
        query(settings, "select cutoff_date::varchar, count(*) from gold.customer_features group by 1")
    )


def test_a_run_replaces_its_cutoffs_keeps_every_as_of_and_drops_older_training_cutoffs(settings, dbt_build):
    write_bronze(settings, LINES)
    dbt_build(
        {"as_of": "2011-04-30", "feature_cutoffs": ["2011-03-31", "2011-04-30"]},
        command=("run",),
        select=SELECT,
    )
    assert cutoff_counts(settings) == {"2011-03-31": 2, "2011-04-30": 3}

    # the next run drops the first run's training cutoff (03-31) and keeps its as_of (04-30)
    dbt_build(
        {"as_of": "2011-06-30", "feature_cutoffs": ["2011-05-31", "2011-06-30"]},
        command=("run",),
        select=SELECT,
    )
    assert cutoff_counts(settings) == {"2011-04-30": 3, "2011-05-31": 3, "2011-06-30": 3}

    # a late line, and the first run again: its cutoffs are rebuilt with customer 8, without duplicates;
    # the second run's training cutoff (05-31) goes, its as_of (06-30) stays as that run left it
    write_bronze(settings, [line("800", "8", "2011-03-01 10:00")], source_file="late.csv")
    dbt_build(
        {"as_of": "2011-04-30", "feature_cutoffs": ["2011-03-31", "2011-04-30"]},
        command=("run",),
        select=SELECT,
    )
    assert cutoff_counts(settings) == {"2011-03-31": 3, "2011-04-30": 4, "2011-06-30": 3}

    # an empty list means [as_of]
    dbt_build({"as_of": "2011-05-31", "feature_cutoffs": []}, command=("run",), select=SELECT)
    assert cutoff_counts(settings) == {"2011-04-30": 4, "2011-05-31": 4, "2011-06-30": 3}


def test_an_earlier_as_of_one_horizon_before_a_later_one_ends_the_same_in_any_order(settings, dbt_build):
    """03-31 is the first run's as_of and, 90 days later, the second run's training cutoff: the second run
    labels it, the first does not (its window ends after that run's as_of). Whichever ran last, the third
    run leaves 03-31 as its own run built it, unlabelled, so backfills in any order end the same."""
    write_bronze(settings, LINES)
    first = {"as_of": "2011-03-31", "feature_cutoffs": ["2011-03-31"]}
    second = {"as_of": "2011-06-29", "feature_cutoffs": ["2011-03-31", "2011-06-29"]}
    last = {"as_of": "2011-07-31", "feature_cutoffs": ["2011-07-31"]}

    def backfill(*runs: dict) -> dict:
        for dbt_vars in runs:
            dbt_build({**dbt_vars, "horizon_days": 90}, command=("run",), select=SELECT)
        return features(settings)

    second_labels = backfill(first, second)[("1", "2011-03-31")]
    assert (second_labels["label_revenue"], second_labels["label_orders"]) == (Decimal("37.000"), 2)
    in_order = backfill(last)
    out_of_order = backfill(second, first, last)

    assert sorted({cutoff for _, cutoff in in_order}) == ["2011-03-31", "2011-06-29", "2011-07-31"]
    assert out_of_order == in_order
    assert all(
        row["label_revenue"] is None and row["label_orders"] is None
        for (_, cutoff), row in in_order.items()
        if cutoff in ("2011-03-31", "2011-06-29")
    )


def test_features_of_a_table_read_by_parallel_threads_are_the_same_bits_on_a_rebuild(settings, dbt_build):
    """Floating-point sums in a parallel aggregate depend on the threads' order; the features must not."""
    write_bronze(settings, LINES)
    dbt_vars = {"as_of": "2011-06-30", "horizon_days": 90, "feature_cutoffs": ["2011-03-31", "2011-06-30"]}
    dbt_build(dbt_vars, command=("run",), select="+customer_activity_days")
    with connect(settings) as con:  # 400,000 days of 20,000 customers: several row groups, read in parallel
        con.execute(
            """
            insert into gold.customer_activity_days (customer_id, activity_date, country, orders,
                cancellations, net_revenue, purchase_revenue, returned_revenue, purchase_items,
                max_basket_value, new_products, is_purchase_day, days_since_previous_purchase)
            select 'x' || (range % 20000), date '2009-01-01' + cast(range // 20000 as integer) * 20
                       + cast(range % 7 as integer), 'United Kingdom', 1, 0, 10, 10, 0, 1, 10, 1, true,
                   cast(hash(range) % 97 as integer) + 1
            from range(400000)
            """
        )

    def ipt_checksum() -> tuple:
        dbt_build(dbt_vars, command=("run",), select="customer_features")
        return query(
            settings,
            "select count(*), sum(hash(ipt_mean_days, ipt_std_days)::hugeint) from gold.customer_features",
        )[0]

    first = ipt_checksum()
    assert first[0] > 40_000
    assert all(ipt_checksum() == first for _ in range(3))


def add_synthetic_customers(settings, customers: int) -> None:
    """`customers` customers with 20 activity days each, 20 days apart from 2010-01-01 into 2011."""
    with connect(settings) as con:
        con.execute(
            """
            insert into gold.customer_activity_days (customer_id, activity_date, country, orders,
                cancellations, net_revenue, purchase_revenue, returned_revenue, purchase_items,
                max_basket_value, new_products, is_purchase_day, days_since_previous_purchase)
            select 'x' || (range % $customers), date '2010-01-01' + cast(range // $customers as integer) * 20,
                   'United Kingdom', 1, 0, 10 + range % 7, 10 + range % 7, 0, 1, 10, 1, true,
                   case when range >= $customers then 20 end
            from range(20 * $customers)
            """,
            {"customers": customers},
        )


def test_a_training_cutoff_holds_a_sample_of_customers_the_as_of_cutoff_all_of_them(settings, dbt_build):
    """Over `feature_training_sample_customers` customers, a training cutoff is built for a sample only, with
    the features a whole build gives those customers; the as_of cutoff keeps everyone and flags the sample."""
    write_bronze(settings, LINES)
    cutoffs = {"as_of": "2011-06-30", "horizon_days": 90, "feature_cutoffs": ["2010-12-31", "2011-06-30"]}
    dbt_build(cutoffs, command=("run",), select="+customer_activity_days")
    add_synthetic_customers(settings, 20_000)

    def build(cap: int) -> dict[tuple[str, str], tuple]:
        dbt_build({**cutoffs, "feature_training_sample_customers": cap}, command=("run",), select=SELECT)
        rows = query(settings, "select * from gold.customer_features order by all")
        return {(row[0], str(row[1])): row for row in rows}

    whole, sampled = build(1_000_000), build(2_000)
    at = {cutoff: {key for key in sampled if key[1] == cutoff} for cutoff in ("2010-12-31", "2011-06-30")}
    # 20,001 customers by 2010-12-31 (customer 3 and the synthetic ones), 20,003 by 2011-06-30
    assert 1_700 < len(at["2010-12-31"]) < 2_300
    assert len(at["2011-06-30"]) == 20_003 == sum(1 for key in whole if key[1] == "2011-06-30")
    flag = -1  # is_training_sample, the last column
    assert all(sampled[key][flag] for key in at["2010-12-31"])
    assert 1_700 < sum(sampled[key][flag] for key in at["2011-06-30"]) < 2_300
    assert all(row[flag] for row in whole.values())  # under the cap every customer is the sample
    # the sample's rows are the whole build's rows of those customers, labels included
    assert all(sampled[key][:flag] == whole[key][:flag] for key in at["2010-12-31"])
    assert sum(1 for key in sampled if key[0] == "1" and key[1] == "2010-12-31") == 0  # 1 starts in 2011


def test_a_training_cutoff_that_is_an_earlier_as_of_keeps_every_customer_and_the_same_sample(
    settings, dbt_build
):
    """2010-12-31 is an earlier run's as_of (a date of rfm_segment_history) and a later run's training
    cutoff: the later run rebuilds it whole, so that run's as_of rows stay whole, with the sample flagged as
    a run that samples it flags it; the ML stage reads the flagged rows, the same in any order of runs."""
    write_bronze(settings, LINES)
    later = {"as_of": "2011-06-30", "horizon_days": 90, "feature_cutoffs": ["2010-12-31", "2011-06-30"]}
    cap = {"feature_training_sample_customers": 2_000}
    dbt_build(later, command=("run",), select="+customer_activity_days")
    add_synthetic_customers(settings, 20_000)
    dbt_build({**later, **cap}, command=("run",), select="customer_features")
    sampled = query(
        settings, "select customer_id from gold.customer_features where cutoff_date = '2010-12-31' order by 1"
    )

    earlier = {"as_of": "2010-12-31", "horizon_days": 90, "feature_cutoffs": ["2010-12-31"]}
    dbt_build({**earlier, **cap}, command=("run",), select="rfm_segment_history customer_features")
    dbt_build({**later, **cap}, command=("run",), select="customer_features")
    counts = query(
        settings,
        "select count(*), list(customer_id order by customer_id) filter (where is_training_sample) "
        "from gold.customer_features where cutoff_date = '2010-12-31'",
    )[0]
    assert counts[0] == 20_001
    assert [(customer,) for customer in counts[1]] == sampled


@pytest.mark.parametrize("per_aggregate", [1, 2])
def test_cutoffs_aggregated_in_batches_give_the_rows_of_one_aggregate(settings, dbt_build, per_aggregate):
    """Batches of cutoffs (var feature_cutoffs_per_aggregate) only bound the hash table: same rows."""
    write_bronze(settings, LINES + LAST_YEAR_LINES)
    cutoffs = ["2010-03-31", "2011-01-13", "2011-03-31", "2011-04-30", "2011-06-30"]
    dbt_vars = {"as_of": "2011-06-30", "horizon_days": 90, "feature_cutoffs": cutoffs}
    dbt_build(dbt_vars, command=("run",), select="+customer_activity_days")

    def rows(cutoffs_per_aggregate: int) -> list[tuple]:
        dbt_build(
            {**dbt_vars, "feature_cutoffs_per_aggregate": cutoffs_per_aggregate},
            command=("run",),
            select="customer_features",
        )
        return query(settings, "select * from gold.customer_features order by customer_id, cutoff_date")

    in_one = rows(len(cutoffs))
    assert sorted({str(row[1]) for row in in_one}) == cutoffs
    # a customer is at every cutoff on or after its first line: 4 (2010-03-31) at 5, 1 (2011-01-03) and 3
    # (2010-12-15) at 4, 2 (2011-04-02) at 2
    assert len(in_one) == 15
    assert rows(per_aggregate) == in_one


UNIQUE_FEATURES = "rfm_unique_combination_of_columns_customer_features_customer_id__cutoff_date"
TEST = ("test", "--indirect-selection", "cautious")


def test_the_key_test_reads_the_run_cutoffs_and_every_row_on_an_audit(settings, dbt_build):
    write_bronze(settings, LINES)
    dbt_build({"as_of": "2011-03-31", "feature_cutoffs": []}, command=("run",), select=SELECT)
    with connect(
        settings
    ) as con:  # a duplicate key in a cutoff that the next run keeps (an as_of) but does not build
        con.execute(
            "insert into gold.customer_features "
            "select * from gold.customer_features where cutoff_date = '2011-03-31' and customer_id = '1'"
        )
    later = {"as_of": "2011-06-30", "feature_cutoffs": ["2011-04-30"]}
    built = dbt_build(later, command=BUILD, select="customer_features")
    compiled = {r.node.name: r.node.compiled_code for r in built.result.results}
    assert "cutoff_date in (cast('2011-04-30' as date))" in compiled[UNIQUE_FEATURES]
    with pytest.raises(DbtError, match=UNIQUE_FEATURES):  # an audit reads every cutoff
        dbt_build({**later, "test_every_load": True}, command=TEST, select="customer_features")
    with pytest.raises(DbtError, match=UNIQUE_FEATURES):  # a run of that cutoff tests it
        dbt_build(
            {"as_of": "2011-06-30", "feature_cutoffs": ["2011-03-31"]},
            command=TEST,
            select="customer_features",
        )


def test_a_cutoff_after_as_of_is_refused(settings, dbt_build):
    write_bronze(settings, LINES)
    with pytest.raises(DbtError, match="after as_of"):
        dbt_build({"as_of": "2011-03-31", "feature_cutoffs": ["2011-04-30"]}, command=("run",), select=SELECT)


def test_real_data_features_for_six_cutoffs(settings, dbt_build, real_data, tmp_path):
    """Online Retail into bronze, then features at six cutoffs; prints the build time (README figure)."""
    from cltv.ingest import ingest_landing

    landing = tmp_path / "real_landing"
    landing.mkdir()
    (landing / real_data["online_retail"].name).symlink_to(real_data["online_retail"])
    ingest_landing(settings, run_id="test-real", landing_dir=landing)
    cutoffs = ["2011-03-31", "2011-05-31", "2011-07-31", "2011-09-09", "2011-10-31", "2011-12-09"]
    dbt_vars = {"as_of": "2011-12-09", "horizon_days": 90, "feature_cutoffs": cutoffs}
    dbt_build(dbt_vars, command=("run",), select="+customer_activity_days")
    started = time.perf_counter()
    dbt_build(dbt_vars, command=("run",), select="customer_features")
    seconds = time.perf_counter() - started

    rows = query(
        settings,
        "select cutoff_date::varchar, count(*), count(label_revenue), sum(frequency) "
        "from gold.customer_features group by 1 order by 1",
    )
    print(f"\ncustomer_features, 6 cutoffs on Online Retail: {seconds:.2f} s (dbt run of the model)")
    for row in rows:
        print(row)
    assert [r[0] for r in rows] == cutoffs
    customers = [r[1] for r in rows]
    assert customers == sorted(customers)
    assert 4000 < customers[-1] < 4500
    # labels exist exactly where cutoff + 90 days <= 2011-12-09
    assert [r[2] > 0 for r in rows] == [True, True, True, True, False, False]


# Customer 4's purchases around the season one year before the 2011-03-31 cutoff: (2010-03-31, 2010-06-29].
LAST_YEAR_LINES = [
    line("400", "4", "2010-03-31 10:00", quantity=1, unit_price=10.0),  # the window's eve: outside
    line("401", "4", "2010-04-01 00:00", quantity=3, unit_price=10.0),  # first day: inside
    line("C402", "4", "2010-05-02 10:00", quantity=-1, unit_price=5.0),  # a return inside: net, no order
    line("403", "4", "2010-06-29 18:00", quantity=1, unit_price=7.0),  # last day: inside
    line("404", "4", "2010-06-30 08:00", quantity=1, unit_price=1000.0),  # the day after: outside
]


def test_revenue_last_year_window_is_the_same_season_one_year_earlier(settings, dbt_build):
    dbt_vars = {"as_of": "2011-06-30", "horizon_days": 90, "feature_cutoffs": ["2010-03-31", "2011-03-31"]}
    write_bronze(settings, LINES + LAST_YEAR_LINES)
    dbt_build(dbt_vars, command=BUILD, select=SELECT)
    rows = features(settings)

    # history starts 2010-03-31, so the window 2010-04-01 .. 2010-06-29 is observed at the 2011 cutoff
    four = rows[("4", "2011-03-31")]
    assert (four["revenue_last_year_window"], four["orders_last_year_window"]) == (Decimal("32.000"), 2)
    assert (
        rows[("1", "2011-03-31")]["revenue_last_year_window"],
        rows[("1", "2011-03-31")]["orders_last_year_window"],
    ) == (
        Decimal("0.000"),
        0,
    )  # observed, and no purchase then: 0, not null
    # at the 2010 cutoff the window would start in 2009, before the history: not observed, null
    early = rows[("4", "2010-03-31")]
    assert (early["revenue_last_year_window"], early["orders_last_year_window"]) == (None, None)

    # a horizon longer than a year stops the window at the cutoff: it never reaches the label window
    dbt_build({**dbt_vars, "horizon_days": 400, "as_of": "2012-06-30"}, command=("run",), select=SELECT)
    longer = features(settings)[("4", "2011-03-31")]
    assert longer["revenue_last_year_window"] == Decimal("1032.000")  # 2010-04-01 .. 2011-03-31
