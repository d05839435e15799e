"""The whole ML stage on a simulated shop: tables, artifacts, leakage, determinism, monitoring."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cltv.warehouse import connect
from ml.config import MODEL_FEATURES, TIERS, MlLimits
from ml.pipeline import run_ml_stage, timed
from tests.conftest import settings_in
from tests.ml.conftest import AS_OF, HORIZON, build_shop, features_at, query, stage_settings

LATER = AS_OF + timedelta(days=HORIZON)


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    """One run at AS_OF on 2,000 simulated customers (invoices continue to LATER for monitoring)."""
    settings = stage_settings(tmp_path_factory.mktemp("ml-stage"))
    invoices = build_shop(settings, n_customers=2000, data_end=LATER)
    summary = run_ml_stage(settings, run_id="run-1", as_of=AS_OF, horizon_days=HORIZON)
    return settings, summary, invoices


def test_xgboost_trains_and_beats_naive_on_gini_out_of_time(stage):
    settings, summary, _ = stage
    assert summary["status"] == "trained"
    xgb, naive = summary["backtest_means"]["xgboost"], summary["backtest_means"]["naive"]
    assert xgb["gini"] > naive["gini"]
    assert xgb["rmse"] < naive["rmse"]
    run = query(settings, "select * from gold.model_runs where run_id = 'run-1'").iloc[0]
    assert run["beat_baselines"] == summary["beat_baselines"]
    assert run["champion"] == summary["champion"]
    assert summary["champion"] == ("xgboost" if summary["beat_baselines"] else run["champion"])
    assert summary["champion"] in {"xgboost", "bgnbd", "naive"}
    assert json.loads(run["backtest_cutoffs"]) == ["2011-06-11", "2011-03-13", "2010-12-13"]
    metrics = query(settings, "select distinct cutoff, model from gold.model_metrics where run_id = 'run-1'")
    assert len(metrics) == 3 * 5  # xgboost, the 2 objectives compared, naive, bgnbd at each backtest cutoff
    models = ["bgnbd", "naive", "xgb_hurdle", "xgb_tweedie_bgnbd", "xgboost"]
    assert sorted(metrics["model"].unique()) == models


def test_training_never_sees_a_label_window_after_as_of(stage):
    settings, summary, _ = stage
    run = query(settings, "select * from gold.model_runs where run_id = 'run-1'").iloc[0]
    training = [date.fromisoformat(c) for c in json.loads(run["training_cutoffs"])]
    assert [c.isoformat() for c in training] == summary["training_cutoffs"]
    assert training
    assert all(c + timedelta(days=HORIZON) <= AS_OF for c in training)
    assert summary["training_rows"] == len(
        query(
            settings,
            "select 1 from gold.customer_features where cutoff_date in (select unnest(?))",
            [training],
        )
    )


def test_every_customer_known_at_as_of_gets_one_prediction(stage):
    settings, summary, _ = stage
    predictions = query(settings, "select * from gold.customer_predictions where as_of_date = ?", [AS_OF])
    customers = query(
        settings, "select customer_id from gold.customer_features where cutoff_date = ?", [AS_OF]
    )
    assert sorted(predictions["customer_id"]) == sorted(customers["customer_id"])
    assert summary["customers_scored"] == len(predictions)
    tiers = predictions[[f"p_tier_{t}" for t in TIERS]].to_numpy()
    assert np.allclose(tiers.sum(axis=1), 1.0)
    assert np.allclose(predictions["p_purchase"], 1 - predictions["p_tier_none"])
    assert set(predictions["predicted_tier"]) <= set(TIERS)
    assert (predictions["predicted_revenue"] >= 0).all()
    assert predictions["predicted_revenue"].notna().all()
    assert predictions[["naive_revenue", "bgnbd_clv", "bgnbd_p_alive"]].notna().all().all()
    drivers = predictions["top_drivers"].str.split("; ")
    assert (drivers.str.len() == 3).all()
    assert {d.rsplit(" ", 1)[0] for row in drivers for d in row} <= set(MODEL_FEATURES)
    assert not predictions["is_baseline_only"].any()
    assert (predictions["model_version"] == summary["model_version"]).all()


def test_artifacts_are_xgboost_json_with_metrics_features_and_a_checked_manifest(stage):
    settings, summary, _ = stage
    directory = Path(summary["artifact_path"])
    assert directory == settings.models_dir / summary["model_version"]
    names = {p.name for p in directory.iterdir()}
    assert {"model.json", "tier_classifier.json", "metrics.json", "features.json", "manifest.json"} <= names
    assert all(name.endswith(".json") for name in names)
    manifest = json.loads((directory / "manifest.json").read_text())
    for name, sha in manifest.items():
        assert hashlib.sha256((directory / name).read_bytes()).hexdigest() == sha
    run = query(settings, "select * from gold.model_runs where run_id = 'run-1'").iloc[0]
    assert run["artifact_sha256"] == hashlib.sha256((directory / "manifest.json").read_bytes()).hexdigest()
    features = json.loads((directory / "features.json").read_text())
    assert features["features"] == list(MODEL_FEATURES)
    assert len(features["tier_thresholds"]) == 2
    assert [run["tier_low_max"], run["tier_mid_max"]] == features["tier_thresholds"]


def test_the_summary_is_json_and_names_the_verdict(stage):
    _, summary, _ = stage
    assert json.loads(json.dumps(summary)) == summary
    assert summary["objective"] in {"tweedie_bgnbd", "hurdle"}
    assert "XGBoost" in summary["verdict"]
    assert set(summary["backtest_means"]) == {"xgboost", "bgnbd", "naive"}


def test_labels_and_rows_after_as_of_change_nothing(stage):
    """Leakage: fill the as_of cutoff's (unknowable) labels and add a later cutoff with labels; the run
    must train the same model and publish the same predictions."""
    settings, summary, _ = stage
    before = query(settings, "select * from gold.customer_predictions order by customer_id")
    with connect(settings) as con:
        con.execute(
            "update gold.customer_features set label_revenue = (hash(customer_id) % 5000)::double, "
            "label_orders = 3 where cutoff_date = ?",
            [AS_OF],
        )
        con.execute(
            "insert into gold.customer_features select * replace (date '2012-01-01' as cutoff_date, "
            "label_revenue * 7 as label_revenue) from gold.customer_features where cutoff_date = ?",
            [AS_OF],
        )
    try:
        again = run_ml_stage(settings, run_id="run-future", as_of=AS_OF, horizon_days=HORIZON)
    finally:
        with connect(settings) as con:
            con.execute("delete from gold.customer_features where cutoff_date = date '2012-01-01'")
            con.execute(
                "update gold.customer_features set label_revenue = null, label_orders = null "
                "where cutoff_date = ?",
                [AS_OF],
            )
    after = query(settings, "select * from gold.customer_predictions order by customer_id")
    assert again["model_version"] == summary["model_version"]
    pd.testing.assert_frame_equal(after.drop(columns="run_id"), before.drop(columns="run_id"))


def test_rerunning_an_as_of_replaces_its_rows_with_identical_predictions(stage):
    settings, summary, _ = stage
    before = query(settings, "select * from gold.customer_predictions order by customer_id")
    again = run_ml_stage(settings, run_id="run-2", as_of=AS_OF, horizon_days=HORIZON)
    after = query(settings, "select * from gold.customer_predictions order by customer_id")
    assert again["model_version"] == summary["model_version"]
    assert len(after) == len(before)
    pd.testing.assert_frame_equal(after.drop(columns="run_id"), before.drop(columns="run_id"))
    # the re-run rewrote the same artifacts: the first run's recorded hash still matches the files
    manifest = Path(summary["artifact_path"]) / "manifest.json"
    hashes = query(
        settings, "select run_id, artifact_sha256 from gold.model_runs where run_id in ('run-1', 'run-2')"
    )
    assert set(hashes["artifact_sha256"]) == {hashlib.sha256(manifest.read_bytes()).hexdigest()}
    assert len(hashes) == 2


def test_a_later_run_judges_the_matured_predictions(stage):
    settings, summary, invoices = stage
    later_features = features_at(invoices, LATER, HORIZON, LATER)
    with connect(settings) as con:
        con.register("later_df", later_features)
        con.execute(
            "insert into gold.customer_features by name select * replace (cutoff_date::date as cutoff_date) "
            "from later_df"
        )
    run_ml_stage(
        settings, run_id="run-3", as_of=LATER, horizon_days=HORIZON, limits=MlLimits(min_training_rows=10**9)
    )
    history = query(
        settings, "select * from gold.model_performance_history where evaluated_as_of = ?", [LATER]
    )
    assert set(history["prediction_as_of"].dt.date) == {AS_OF}
    assert set(history["model"]) == {"xgboost", "bgnbd", "naive"}
    window = invoices[(invoices["invoice_date"] > AS_OF) & (invoices["invoice_date"] <= LATER)]
    predicted = query(
        settings, "select customer_id from gold.customer_predictions where as_of_date = ?", [AS_OF]
    )
    realised = window.groupby("customer_id")["revenue"].sum().clip(lower=0)
    expected = realised.reindex(predicted["customer_id"]).fillna(0).mean()
    mean_actual = history[(history["model"] == "naive") & (history["metric"] == "mean_actual")]["value"]
    assert mean_actual.iloc[0] == pytest.approx(expected, rel=1e-9)
    # the AS_OF predictions are untouched by the later run
    assert (
        len(query(settings, "select 1 from gold.customer_predictions where as_of_date = ?", [AS_OF]))
        == summary["customers_scored"]
    )


def test_a_backfill_judges_the_same_predictions_whichever_as_of_runs_first(tmp_path):
    """In order, the LATER run judges the AS_OF predictions; out of order they do not exist yet when it runs,
    so the AS_OF run, coming second, judges them for it: both orders end with the same judgements."""

    def backfill(name: str, as_ofs: tuple[date, ...]) -> pd.DataFrame:
        settings = settings_in(tmp_path / name)
        build_shop(settings, n_customers=300, cutoffs=[AS_OF, LATER], data_end=LATER)
        for as_of in as_ofs:
            run_ml_stage(
                settings,
                run_id=f"run-{as_of}",
                as_of=as_of,
                horizon_days=HORIZON,
                limits=MlLimits(min_training_rows=10**9),  # baselines only: the judging is what matters
            )
        return query(
            settings,
            "select * exclude (run_id) from gold.model_performance_history order by all",
        )

    in_order = backfill("in_order", (AS_OF, LATER))
    out_of_order = backfill("out_of_order", (LATER, AS_OF))

    pairs = set(zip(in_order["evaluated_as_of"].dt.date, in_order["prediction_as_of"].dt.date, strict=True))
    assert pairs == {(LATER, AS_OF)}
    pd.testing.assert_frame_equal(out_of_order, in_order)


def test_too_short_history_publishes_baselines_and_says_why(settings):
    as_of = date(2011, 9, 9)
    build_shop(settings, n_customers=400, start=as_of - timedelta(days=60), cutoffs=[as_of])
    summary = run_ml_stage(settings, run_id="young", as_of=as_of, horizon_days=90)
    assert summary["status"] == "baseline_only"
    assert "no labelled cutoff" in summary["verdict"]
    assert summary["champion"] == "bgnbd"
    run = query(settings, "select * from gold.model_runs").iloc[0]
    assert run["status"] == "baseline_only"
    assert "no labelled cutoff" in run["reason"]
    assert pd.isna(run["beat_baselines"])
    assert pd.isna(run["artifact_path"])
    predictions = query(settings, "select * from gold.customer_predictions")
    assert len(predictions) > 0
    assert predictions["is_baseline_only"].all()
    assert predictions["predicted_revenue"].notna().all()
    expected = predictions["bgnbd_clv"].where(predictions["bgnbd_clv"].notna(), predictions["naive_revenue"])
    assert np.allclose(predictions["predicted_revenue"], expected)
    assert predictions["predicted_tier"].isna().all()
    assert not settings.models_dir.exists() or not any(settings.models_dir.iterdir())


def test_too_few_labelled_customers_also_falls_back(settings):
    build_shop(settings, n_customers=60)
    summary = run_ml_stage(settings, run_id="small", as_of=AS_OF, horizon_days=HORIZON, n_backtests=0)
    assert summary["status"] == "baseline_only"
    assert "fewer than 200" in summary["verdict"]


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"as_of": "2011-09-09"}, TypeError, "as_of must be a datetime.date"),
        ({"horizon_days": 0}, ValueError, "horizon_days must be at least 1"),
        ({"horizon_days": 90.0}, TypeError, "horizon_days must be an integer"),
        ({"n_training_cutoffs": 0}, ValueError, "n_training_cutoffs must be at least 1"),
        ({"run_id": " "}, ValueError, "run_id must be a non-empty string"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_read(settings, arguments, error, message):
    call = {"run_id": "x", "as_of": AS_OF, "horizon_days": HORIZON, **arguments}
    with pytest.raises(error, match=message):
        run_ml_stage(settings, **call)
    assert not settings.warehouse.exists()


def test_a_warehouse_without_features_is_a_clear_error(settings):
    with connect(settings) as con:
        con.execute("create schema if not exists gold")
    with pytest.raises(RuntimeError, match="customer_features does not exist"):
        run_ml_stage(settings, run_id="x", as_of=AS_OF, horizon_days=HORIZON)


def test_each_phase_of_the_stage_logs_its_seconds(caplog):
    with caplog.at_level(logging.INFO, logger="ml.pipeline"), timed("reads"):
        pass
    assert re.fullmatch(r"ML stage reads: \d+\.\d s", caplog.messages[-1])
