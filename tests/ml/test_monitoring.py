"""Which earlier predictions a run judges, and the revenue it finds for them, on tables built in code."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from ml.monitoring import JUDGED_COLUMNS, MONITORED_COLUMNS, matured_predictions, performance_rows


@pytest.fixture
def con():
    """Predictions of customer `a` made every 30 days with a 30-day horizon, and three of a's lines."""
    connection = duckdb.connect()
    connection.execute("create schema gold")
    connection.execute(
        """
        create table gold.customer_predictions as
        select 'a' as customer_id, as_of_date::date as as_of_date, 30 as horizon_days, 'v1' as model_version,
            false as is_baseline_only, 1.0 as predicted_revenue, 2.0 as bgnbd_clv, 3.0 as naive_revenue,
            0.7 as p_tier_none, 0.1 as p_tier_low, 0.1 as p_tier_mid, 0.1 as p_tier_high,
            'recency_days +0.100' as top_drivers
        from (values (date '2011-01-01'), (date '2011-01-31'), (date '2011-03-02'), (date '2011-04-01'))
            as dates (as_of_date)
        """
    )
    connection.execute(
        """
        create table gold.fct_invoices as
        select 'a' as customer_id, invoice_date::date as invoice_date, revenue::decimal(18, 3) as revenue
        from (values (date '2011-01-15', 10), (date '2011-02-10', 20), (date '2011-03-20', -5))
            as lines (invoice_date, revenue)
        """
    )
    yield connection
    connection.close()


def judged(con: duckdb.DuckDBPyConnection, as_of: date) -> list[tuple[str, float]]:
    frame = matured_predictions(con, as_of)
    days = [day.isoformat() for day in frame["as_of_date"].dt.date]
    return list(zip(days, frame["actual_revenue"], strict=True))


def test_a_run_judges_the_predictions_whose_window_closed_within_the_last_horizon(con):
    # a window closes a horizon (30 days) after its prediction and is judged for one more horizon
    assert judged(con, date(2011, 1, 30)) == []  # 01-01's window closes on 01-31
    assert judged(con, date(2011, 1, 31)) == [("2011-01-01", 10.0)]
    assert judged(con, date(2011, 3, 1)) == [("2011-01-01", 10.0)]  # the last day it is judged
    assert judged(con, date(2011, 3, 2)) == [("2011-01-31", 20.0)]  # 01-01's judgements are history
    assert judged(con, date(2011, 3, 31)) == [("2011-01-31", 20.0)]
    assert judged(con, date(2011, 4, 1)) == [("2011-03-02", 0.0)]  # -5 in its window, floored at 0


def test_a_report_judges_the_predictions_of_one_date_when_their_window_closes(con):
    frame = matured_predictions(con, date(2011, 3, 2), prediction_as_of=date(2011, 1, 31))
    assert list(frame["customer_id"]) == ["a"]
    assert list(frame["actual_revenue"]) == [20.0]


def test_judging_reads_the_scored_columns_only_and_lines_of_the_matured_windows_only(con):
    # a line outside every matured window (after 01-31's window closed on 03-02) must not count
    con.execute("insert into gold.fct_invoices values ('a', date '2011-03-03', 100)")
    frame = matured_predictions(con, date(2011, 3, 2))
    assert list(frame.columns) == [*JUDGED_COLUMNS, "actual_revenue"]
    assert frame[["predicted_revenue", "bgnbd_clv", "naive_revenue", "actual_revenue"]].values.tolist() == [
        [1.0, 2.0, 3.0, 20.0]
    ]


def test_a_warehouse_without_predictions_has_nothing_to_judge():
    frame = matured_predictions(duckdb.connect(), date(2011, 3, 2))
    assert frame.empty
    assert list(frame.columns) == [*JUDGED_COLUMNS, "actual_revenue"]


def test_the_monitoring_reads_only_what_its_metrics_need_and_judges_the_same(con):
    con.execute(
        "insert into gold.customer_predictions select * replace ('b' as customer_id, 4.0 as bgnbd_clv) "
        "from gold.customer_predictions"
    )
    con.execute("insert into gold.fct_invoices values ('b', date '2011-02-20', 7)")
    everything = matured_predictions(con, date(2011, 3, 2))
    narrow = matured_predictions(con, date(2011, 3, 2), columns=MONITORED_COLUMNS)

    assert list(narrow.columns) == [*MONITORED_COLUMNS, "actual_revenue"]
    assert list(narrow["actual_revenue"]) == [20.0, 7.0]  # by customer within the prediction date: a, b
    judged = performance_rows(narrow, date(2011, 3, 2))
    assert judged.equals(performance_rows(everything, date(2011, 3, 2)))
    assert set(judged["model"]) == {"xgboost", "bgnbd", "naive"}
