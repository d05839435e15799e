"""The page loaders on the tiny shop, and reads that see a new publication without a restart."""

from __future__ import annotations

from datetime import date

import pytest

from cltv.config import Settings
from cltv.publish import publish
from cltv.warehouse import connect
from dashboard import data
from tests.dashboard.conftest import AS_OF, HORIZON, RUN_ID, settings_in, write_tiny_gold


def page(settings: Settings, loader):
    return data.read(lambda con: loader(con, data.publication(con)), settings)


def test_the_publication_names_its_run_horizon_and_latest_invoice(tiny_publication: Settings):
    pub = data.read(data.publication, tiny_publication)
    assert (pub.run_id, pub.as_of, pub.horizon_days) == (RUN_ID, AS_OF, HORIZON)
    assert pub.latest_invoice_date == date(2025, 1, 5)  # what fct_invoices holds, even past as_of
    assert pub.publication_id.endswith(RUN_ID)


def test_overview_counts_up_to_as_of_and_sums_the_predictions_of_as_of(tiny_publication: Settings):
    figures = page(tiny_publication, data.overview)

    assert figures.customers == 7
    assert figures.revenue == pytest.approx(1000 + 250 + 150 + 500 + 10 + 300 + 1199)  # not the 9999 after
    assert figures.last_period_revenue == pytest.approx(1000 + 250 + 150 - 30 + 300 + 200)
    assert figures.active_customers == 5  # A, B, C, F, G bought in the window; E only returned
    assert figures.orders == 8  # invoices that are not cancellations
    assert figures.predicted_revenue == pytest.approx(800 + 100 + 120 + 0 + 600 + 250 + 50)  # not run-old's
    assert figures.expected_buyers == pytest.approx(0.9 + 0.4 + 0.7 + 0.05 + 0.8 + 0.6 + 0.3)
    assert figures.monthly["net_revenue"].tolist() == [1250.0, 1470.0]


def test_segments_heat_map_and_history(tiny_publication: Settings):
    segments = page(tiny_publication, data.segments)

    loyal = segments.by_segment_tier.query("segment == 'Loyal Customers'")
    assert loyal[["value_tier", "customers", "revenue"]].values.tolist() == [["Mid", 2, 450.0]]
    cell = segments.heat_map.query("recency_score == 5 and frequency_score == 5").iloc[0]
    assert (cell["customers"], cell["mean_monetary"]) == (1, 1000.0)
    assert segments.heat_map["customers"].sum() == 7
    history = segments.history.groupby("as_of_date")["customers"].sum()
    assert history.tolist() == [2, 7]
    older = segments.history[segments.history["as_of_date"].dt.date == date(2024, 9, 30)]
    assert dict(zip(older["segment"], older["share"], strict=True)) == {
        "Champions": 0.5,
        "Need Attention": 0.5,
    }


def test_model_quality_averages_backtests_and_sets_the_model_beside_its_baselines(tiny_publication: Settings):
    quality = page(tiny_publication, data.model_quality)

    assert quality.run_id == RUN_ID
    assert quality.runs["run_id"].tolist() == [RUN_ID, "run-old"]  # newest first
    gini = quality.comparison.set_index("metric").loc["gini"]
    assert gini.to_dict() == pytest.approx({"xgboost": 0.65, "naive": 0.45, "bgnbd": 0.55})
    assert quality.comparison.set_index("metric").loc["rmse"].to_dict() == pytest.approx(
        {"xgboost": 100.0, "naive": 200.0, "bgnbd": 150.0}
    )
    naive = quality.calibration.query("model == 'naive'")
    assert naive["decile"].tolist() == [1, 2]
    assert naive["predicted"].tolist() == pytest.approx([2.0, 4.0])
    assert naive["actual"].tolist() == pytest.approx([10.05, 20.05])
    backtests = quality.metrics_over_runs.query("model == 'xgboost' and metric == 'gini'")["backtests"]
    assert backtests.tolist() == [2]


def test_customer_card_of_one_customer(tiny_publication: Settings):
    card = page(tiny_publication, lambda con, pub: data.customer_card(con, pub, "A"))

    assert card.profile["lifetime_net_revenue"].tolist() == [1000.0]
    assert card.segment["segment"].tolist() == ["Champions"]
    assert card.prediction["predicted_revenue"].tolist() == [800.0]  # at as_of, not run-old's 99999
    assert card.drivers.values.tolist() == [
        ["revenue_90d", 0.812],
        ["recency_days", -0.54],
        ["frequency", 0.201],
    ]
    assert card.segment_history["segment"].tolist() == ["Need Attention", "Champions"]
    assert card.prediction_history["run_id"].tolist() == ["run-old", RUN_ID]
    assert card.monthly_revenue["net_revenue"].tolist() == [1000.0]  # the line after as_of is not shown


def test_an_unknown_customer_has_an_empty_card(tiny_publication: Settings):
    card = page(tiny_publication, lambda con, pub: data.customer_card(con, pub, "nobody"))
    assert card.profile.empty
    assert card.prediction.empty
    assert card.drivers.empty


def test_parse_drivers_keeps_order_and_sign():
    assert data.parse_drivers("a +1.500; b_c -0.250").values.tolist() == [["a", 1.5], ["b_c", -0.25]]
    assert data.parse_drivers(None).empty


def test_each_read_sees_the_newest_publication_in_the_same_process(tmp_path):
    """No restart: a read after a publish shows the new run (the connection was closed after each read)."""
    settings = settings_in(tmp_path)
    write_tiny_gold(settings)
    publish(settings, run_id="first", as_of=AS_OF)
    assert data.read(data.publication, settings).run_id == "first"

    with connect(settings) as con:
        con.execute(
            "update gold.customer_predictions set predicted_revenue = 1 where as_of_date = ?", [AS_OF]
        )
    publish(settings, run_id="second", as_of=AS_OF)

    assert data.read(data.publication, settings).run_id == "second"
    assert page(settings, data.overview).predicted_revenue == pytest.approx(7.0)


def test_used_params_passes_only_the_parameters_a_query_names():
    sql = "select $as_of, $as_of_date"
    assert data.used_params(sql, {"as_of": 1, "as_of_date": 2, "other": 3}) == {"as_of": 1, "as_of_date": 2}
    assert data.used_params("select $as_of_date", {"as_of": 1}) == {}
