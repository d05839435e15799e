"""RFM segments: history re-runs replace their rows, transitions and summary add up, Online Retail counts."""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

from tests.dbt.conftest import line, query, write_bronze

SELECT = "+report_segment_summary +report_segment_transitions"
BUILD = ("build", "--indirect-selection", "cautious")

# Ten customers buying between January and June 2011 at different paces and amounts.
LINES = [
    line(
        f"{customer}{n:02d}",
        str(customer),
        f"2011-{month:02d}-{day:02d} 10:00",
        quantity=customer,
        unit_price=3.0,
    )
    for customer in range(1, 11)
    for n, (month, day) in enumerate(
        [(1 + (k * customer) % 6, 1 + (3 * customer + k) % 27) for k in range(customer % 4 + 1)]
    )
]


# Online Retail as of 2011-12-09: customers per segment (README, "Warehouse: silver and gold").
ONLINE_RETAIL_SEGMENTS = {
    "Hibernating": 725,
    "Loyal Customers": 681,
    "Lost": 629,
    "Champions": 601,
    "About to Sleep": 475,
    "Potential Loyalist": 474,
    "At Risk": 336,
    "Promising": 165,
    "Need Attention": 116,
    "New Customers": 67,
    "Cannot Lose Them": 65,
}


def history(settings) -> dict[str, list[tuple]]:
    rows = query(
        settings,
        "select as_of_date::varchar, customer_id, segment, value_tier "
        "from gold.rfm_segment_history order by 1, 2",
    )
    by_date: dict[str, list[tuple]] = {}
    for as_of, *rest in rows:
        by_date.setdefault(as_of, []).append(tuple(rest))
    return by_date


def transitions(settings) -> dict[tuple, int]:
    rows = query(
        settings,
        "select from_segment, from_value_tier, to_segment, to_value_tier, customers "
        "from gold.report_segment_transitions",
    )
    return {tuple(row[:4]): row[4] for row in rows}


def test_history_reruns_replace_rows_and_transitions_count_moves(settings, dbt_build):
    write_bronze(settings, LINES)
    dbt_build({"as_of": "2011-03-31"}, command=BUILD, select=SELECT)
    first = history(settings)
    assert list(first) == ["2011-03-31"]
    march = {customer: (segment, tier) for customer, segment, tier in first["2011-03-31"]}
    # first run: everyone comes from "new"
    assert transitions(settings) == dict(
        Counter(("new", "new", segment, tier) for segment, tier in march.values())
    )
    assert query(settings, "select distinct previous_as_of_date from gold.report_segment_transitions") == [
        (None,)
    ]

    dbt_build({"as_of": "2011-06-30"}, command=BUILD, select=SELECT)
    second = history(settings)
    assert list(second) == ["2011-03-31", "2011-06-30"]
    assert second["2011-03-31"] == first["2011-03-31"]
    june = {customer: (segment, tier) for customer, segment, tier in second["2011-06-30"]}
    expected = Counter((*march.get(customer, ("new", "new")), *june[customer]) for customer in june)
    assert transitions(settings) == dict(expected)
    assert query(
        settings,
        "select round(sum(share_of_customers), 9), min(previous_as_of_date)::varchar "
        "from gold.report_segment_transitions",
    ) == [(1.0, "2011-03-31")]
    share_of_from_sums = query(
        settings,
        "select round(sum(share_of_from), 9) from gold.report_segment_transitions "
        "group by from_segment, from_value_tier",
    )
    assert set(share_of_from_sums) == {(1.0,)}

    # Re-running 2011-03-31 after a late file replaces that date's rows and keeps June's.
    write_bronze(settings, [line("9901", "99", "2011-03-30 10:00", quantity=100)], source_file="late.csv")
    dbt_build({"as_of": "2011-03-31"}, command=BUILD, select=SELECT)
    third = history(settings)
    assert third["2011-06-30"] == second["2011-06-30"]
    assert {c for c, *_ in third["2011-03-31"]} == {c for c, *_ in first["2011-03-31"]} | {"99"}
    assert len(third["2011-03-31"]) == len(first["2011-03-31"]) + 1  # replaced, not appended
    assert query(settings, "select distinct as_of_date::varchar from gold.rfm_segments") == [("2011-03-31",)]

    # A full refresh (after a bad load was withdrawn) rebuilds its date and keeps the history of the others.
    dbt_build({"as_of": "2011-03-31"}, command=(*BUILD, "--full-refresh"), select=SELECT)
    assert history(settings) == third


def test_summary_adds_up_to_the_segments(settings, dbt_build):
    write_bronze(settings, LINES)
    dbt_build({"as_of": "2011-06-30"}, command=BUILD, select=SELECT)
    [(customers, revenue)] = query(settings, "select count(*), sum(monetary) from gold.rfm_segments")
    assert customers == 10
    assert query(settings, "select sum(customers), sum(revenue_sum) from gold.report_segment_summary") == [
        (customers, revenue)
    ]
    [(frequency_mean,)] = query(
        settings,
        "select sum(frequency_mean * customers) / sum(customers) from gold.report_segment_summary",
    )
    [(expected,)] = query(settings, "select avg(frequency) from gold.rfm_segments")
    assert abs(frequency_mean - expected) < 1e-9


def test_online_retail_segments_as_of_2011_12_09(settings, dbt_build, real_data, tmp_path):
    """The segment counts the README quotes (Online Retail, as_of 2011-12-09)."""
    from cltv.ingest import ingest_landing

    landing = tmp_path / "real_landing"
    landing.mkdir()
    (landing / real_data["online_retail"].name).symlink_to(real_data["online_retail"])
    ingest_landing(settings, run_id="test-real", landing_dir=landing)
    started = time.perf_counter()
    dbt_build({"as_of": "2011-12-09"}, command=("run",), select=SELECT)
    seconds = time.perf_counter() - started
    counts = query(
        settings,
        "select segment, count(*), sum(monetary) from gold.rfm_segments group by 1 order by 2 desc, 1",
    )
    tiers = dict(query(settings, "select value_tier, count(*) from gold.rfm_segments group by 1"))
    print(f"\nOnline Retail as of 2011-12-09 (dbt run from bronze: {seconds:.1f} s)")
    for segment, customers, revenue in counts:
        print(f"{segment:<20}{customers:>6}{revenue:>14}")
    print(tiers)
    # the README's table: every count pinned, so the README cannot drift from the models
    assert {segment: customers for segment, customers, _ in counts} == ONLINE_RETAIL_SEGMENTS
    assert tiers == {"High": 867, "Mid": 1733, "Low": 1734}
    # customers with a purchase by as_of; the 28 who only ever cancelled have no segment
    assert query(settings, "select count(*), sum(monetary) from gold.rfm_segments") == [
        (4334, Decimal("8269399.910"))
    ]
