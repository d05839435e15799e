from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml import evaluate
from ml.baselines import BgNbdBaseline, naive_revenue, with_bgnbd_features
from tests.ml.conftest import features_at, simulate_invoices

CUTOFF = date(2011, 3, 13)


@pytest.fixture(scope="module")
def population() -> pd.DataFrame:
    invoices = simulate_invoices(1500, date(2009, 12, 1), date(2011, 9, 9), seed=3)
    return features_at(invoices, CUTOFF, 90, date(2011, 9, 9))


def rfm(x: list[float], t_x: list[float], tenure: list[float], monetary: list[float]) -> pd.DataFrame:
    n = len(x)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "frequency_repeat_days": x,
            "recency_bgnbd_days": t_x,
            "tenure_days": tenure,
            "monetary": monetary,
        }
    )


def test_naive_extrapolates_last_year_spend_rate_with_a_30_day_floor():
    frame = pd.DataFrame(
        {
            "revenue_365d": [365.0, 300.0, -50.0, 100.0, 730.0],
            "tenure_days": [364.0, 0.0, 99.0, np.nan, 800.0],
        }
    )
    assert naive_revenue(frame, 90).tolist() == pytest.approx([90.0, 900.0, 0.0, 0.0, 180.0])


def test_bgnbd_fits_a_simulated_population_and_ranks_its_next_quarter(population):
    model = BgNbdBaseline().fit(population, max_rows=100_000)
    assert model.is_fitted
    assert all(v > 0 for v in (model.params.r, model.params.alpha, model.params.a, model.params.b))
    assert model.params.q > 1
    out = model.predict(population, 90)
    assert np.isfinite(out["clv"]).all()
    assert (out["clv"] >= 0).all()
    assert out["p_alive"].between(0, 1).all()
    assert evaluate.normalized_gini(np.maximum(population["label_revenue"], 0), out["clv"]) > 0.5


def test_bgnbd_expectations_move_the_right_way(population):
    model = BgNbdBaseline().fit(population, max_rows=100_000)
    probe = rfm([1, 5, 5, 0], [100, 100, 300, 0], [300, 300, 300, 300], [100, 500, 500, -20])
    out = model.predict(probe, 90)
    assert out["expected_purchases"][2] > out["expected_purchases"][1]  # same x, more recent
    assert out["p_alive"][2] > out["p_alive"][1]
    assert out["expected_purchases"][2] > out["expected_purchases"][0]  # more purchases
    # a one-time buyer with a negative net spend still gets the population's mean spend per purchase day
    assert out["expected_spend"][3] > 0
    assert out["p_alive"][3] == 1.0  # BG/NBD: no repeat purchase, no evidence of drop-out


def test_bgnbd_degenerate_inputs_give_nan_columns_not_a_failure():
    one_timers = rfm([0] * 50, [0] * 50, list(range(50)), [10.0] * 50)
    model = BgNbdBaseline().fit(one_timers, max_rows=1000)
    assert not model.is_fitted
    out = model.predict(one_timers, 90)
    assert out["clv"].isna().all()


def test_bgnbd_cleans_impossible_rows_before_fitting(population):
    broken = population.copy()
    broken.loc[broken.index[:20], "recency_bgnbd_days"] = broken["tenure_days"][:20] + 50  # t_x > T
    broken.loc[broken.index[20:40], "tenure_days"] = np.nan  # no purchase
    model = BgNbdBaseline().fit(broken, max_rows=100_000)
    out = model.predict(broken, 90)
    assert model.is_fitted
    assert np.isfinite(out["clv"]).all()
    assert (out["expected_purchases"][20:40] == 0).all()


def test_bgnbd_features_use_a_cutoffs_shared_model_and_fit_the_others_on_the_frame(population):
    """The ML stage fits each cutoff once for every frame holding it (ml.pipeline.fit_cutoff_baselines)."""
    later = population.assign(cutoff_date=date(2011, 6, 11))
    frame = pd.concat([population.iloc[:400], later.iloc[:400]], ignore_index=True)
    shared = BgNbdBaseline().fit(population, max_rows=100_000)  # all 1,500 customers, not the frame's 400
    out = with_bgnbd_features(frame, 90, 100_000, {CUTOFF: shared})

    expected = shared.predict(population.iloc[:400], 90)["clv"].to_numpy(dtype=np.float32)
    assert np.array_equal(out["bgnbd_clv"].to_numpy()[:400], expected)
    refitted = BgNbdBaseline().fit(later.iloc[:400], max_rows=100_000).predict(later.iloc[:400], 90)
    assert np.array_equal(out["bgnbd_clv"].to_numpy()[400:], refitted["clv"].to_numpy(dtype=np.float32))
    assert not np.array_equal(expected, refitted["clv"].to_numpy(dtype=np.float32))
