"""The model cache: what its key depends on; a run reusing a model writes what one that trains does."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cltv.config import Settings
from cltv.ingest import ingest_landing
from cltv.warehouse import connect
from ml.cache import ModelCache, TrainingOutcome, training_key
from ml.config import DEFAULT_LIMITS, MlLimits
from ml.cutoffs import plan_cutoffs
from ml.pipeline import run_ml_stage
from tests.cltv.test_ingest import dated_row, write_csv
from tests.ml.conftest import HORIZON, build_shop, query, stage_settings

ANCHOR = date(2011, 6, 30)
AS_OF = date(2011, 8, 31)  # two months after the anchor: a monthly run that reuses the quarter's model
PLAN = plan_cutoffs(AS_OF, HORIZON, anchor=ANCHOR)


def key_of(settings: Settings, plan=PLAN, limits: MlLimits = DEFAULT_LIMITS) -> str:
    with connect(settings, read_only=True) as con:
        return training_key(con, plan, HORIZON, limits)


# --- the key -----------------------------------------------------------------------------------------


def test_the_key_changes_with_a_file_of_lines_up_to_the_anchor_and_not_with_later_ones(settings: Settings):
    write_csv(settings.landing_dir / "h1.csv", [dated_row(i, "2011-05-02 10:00:00") for i in range(5)])
    ingest_landing(settings, run_id="r1")
    first = key_of(settings)

    write_csv(settings.landing_dir / "july.csv", [dated_row(i, "2011-07-01 00:00:00") for i in range(5)])
    ingest_landing(settings, run_id="r2")
    after_later_lines = key_of(settings)

    late = [dated_row(0, "2011-06-30 23:59:00"), *[dated_row(i, "2011-08-01 09:00:00") for i in range(1, 5)]]
    write_csv(settings.landing_dir / "late.csv", late)
    ingest_landing(settings, run_id="r3")
    after_a_late_line = key_of(settings)

    assert after_later_lines == first
    assert after_a_late_line != first
    assert key_of(settings) == after_a_late_line  # stable
    assert key_of(settings, plan_cutoffs(AS_OF, HORIZON)) != after_a_late_line  # trained as of as_of
    assert key_of(settings, plan_cutoffs(AS_OF, HORIZON, 2, anchor=ANCHOR)) != after_a_late_line
    assert key_of(settings, limits=MlLimits(max_training_rows=1000)) != after_a_late_line


def test_an_outcome_survives_its_json_with_dates_and_undefined_metrics(tmp_path: Path):
    outcome = TrainingOutcome(
        status="trained",
        reason="trained; XGBoost beat both baselines",
        trained_as_of=ANCHOR,
        training_cutoffs=(date(2010, 12, 31), date(2011, 4, 1)),
        training_rows=1234,
        model_version="xgb-20110630-h90-abc",
        artifact_path=str(tmp_path),
        artifact_sha256="0" * 64,
        beat_baselines=True,
        champion="xgboost",
        summary={"xgboost": {"gini": 0.5, "rmse": 12.25}},
        backtests={date(2011, 4, 1): {"xgboost": {"gini": 0.1 + 0.2, "spearman": math.nan}}},
    )
    again = TrainingOutcome.from_json(outcome.to_json())
    assert math.isnan(again.backtests[date(2011, 4, 1)]["xgboost"]["spearman"])
    assert again.backtests[date(2011, 4, 1)]["xgboost"]["gini"] == 0.1 + 0.2  # bit for bit
    assert again.to_json() == outcome.to_json()
    assert (again.trained_as_of, again.training_cutoffs) == (outcome.trained_as_of, outcome.training_cutoffs)


def test_only_trained_outcomes_are_cached(tmp_path: Path):
    with pytest.raises(ValueError, match="only trained models"):
        ModelCache(tmp_path).store("k", TrainingOutcome("baseline_only", "too short", ANCHOR, ()))


# --- the ML stage with a key -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def anchored(tmp_path_factory):
    """A shop with features for every cutoff of PLAN, and a first run that trains and caches the model."""
    settings = stage_settings(tmp_path_factory.mktemp("ml-cache"))
    build_shop(settings, n_customers=1500, as_of=AS_OF, cutoffs=PLAN.all)
    features_before = query(settings, "select cutoff_date, count(*) n from gold.customer_features group by 1")
    summary = run_ml_stage(
        settings, run_id="miss", as_of=AS_OF, horizon_days=HORIZON, anchor=ANCHOR, training_key="k1"
    )
    snapshot = {
        table: query(settings, f"select * from gold.{table} order by all")
        for table in ("customer_predictions", "model_runs", "model_metrics", "customer_features")
    }
    return settings, summary, snapshot, features_before


def test_a_run_trains_as_of_its_anchor_and_scores_as_of_its_as_of(anchored):
    settings, summary, snapshot, _ = anchored
    assert (summary["status"], summary["model_from_cache"]) == ("trained", False)
    assert summary["trained_as_of"] == "2011-06-30"
    assert summary["model_version"].startswith("xgb-20110630-h90-")
    assert all(date.fromisoformat(c) + timedelta(days=HORIZON) <= ANCHOR for c in summary["training_cutoffs"])
    run = snapshot["model_runs"].iloc[0]
    assert (run["as_of"].date(), run["trained_as_of"].date()) == (AS_OF, ANCHOR)
    assert json.loads(run["backtest_cutoffs"]) == [b.cutoff.isoformat() for b in PLAN.backtests]
    assert set(snapshot["customer_predictions"]["as_of_date"].dt.date) == {AS_OF}
    assert ModelCache(settings.models_dir).lookup("k1").model_version == summary["model_version"]


def test_once_cached_the_training_cutoffs_are_retired_and_the_as_of_cutoff_stays(anchored):
    _, _, snapshot, features_before = anchored
    assert len(features_before) > 1  # the cutoffs of PLAN from the shop's first day on
    kept = snapshot["customer_features"].groupby("cutoff_date").size()
    assert [d.date() for d in kept.index] == [AS_OF]
    assert kept.iloc[0] == features_before.set_index("cutoff_date").loc[pd.Timestamp(AS_OF), "n"]


def test_a_run_that_reuses_the_cached_model_writes_the_same_gold_without_its_training_rows(anchored):
    settings, summary, snapshot, _ = anchored
    again = run_ml_stage(
        settings, run_id="hit", as_of=AS_OF, horizon_days=HORIZON, anchor=ANCHOR, training_key="k1"
    )
    assert (again["model_from_cache"], again["model_version"]) == (True, summary["model_version"])
    predictions = query(settings, "select * from gold.customer_predictions order by all")
    pd.testing.assert_frame_equal(
        predictions.drop(columns="run_id"), snapshot["customer_predictions"].drop(columns="run_id")
    )
    runs = query(settings, "select * from gold.model_runs order by run_id").set_index("run_id")
    assert (
        runs.drop(columns="customers_scored")
        .loc["hit"]
        .equals(runs.drop(columns="customers_scored").loc["miss"])
    )
    metrics = query(
        settings, "select * exclude (run_id) from gold.model_metrics where run_id = 'hit' order by all"
    )
    expected = snapshot["model_metrics"].drop(columns="run_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(metrics, expected)


def test_a_cache_entry_whose_artifacts_changed_is_a_miss(anchored, tmp_path: Path):
    settings, _, _, _ = anchored
    cache = ModelCache(settings.models_dir)
    entry = TrainingOutcome.from_json(cache.entry("k1").read_text())
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in Path(entry.artifact_path).iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    cache.store("k2", TrainingOutcome(**{**entry.__dict__, "artifact_path": str(copy)}))
    assert cache.lookup("k2") is not None
    (copy / "manifest.json").write_text("{}")
    assert cache.lookup("k2") is None
    assert cache.lookup("absent") is None
