"""The ML stage of one run: backtest, train, score, monitor, and write the gold ML tables.

`run_ml_stage` is what the DAG calls. It reads gold.customer_features with read-only connections (closed
before any fitting, so training never holds a lock), and writes every gold ML table in one transaction of
one writer connection at the end:

- gold.customer_predictions: one row per customer per as_of (a re-run of an as_of replaces its rows);
- gold.model_runs: one row per run (what was trained on, with what, where the artifacts are, the verdict);
- gold.model_metrics: backtest metrics per (cutoff, model, metric), long format;
- gold.model_performance_history: earlier predictions judged once their horizon has passed (ml.monitoring).

The model is trained as of the run's anchor (ml.cutoffs: the last quarter end by default) and, in a
pipeline run, cached under the key of its training data (ml.cache): a run whose model is cached loads it
instead of reading training features and backtesting; one that trains caches it and then serves from the
cache as well, so both write the same rows.

When history is too short to train (no labelled cutoff, or too few labelled customers or buyers), the run
still completes: it logs why, publishes the BG/NBD (else naive) predictions with is_baseline_only = true,
and records status 'baseline_only' with the reason in gold.model_runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

import cltv.timing
from cltv.config import Settings
from cltv.ingest import file_sha256
from cltv.warehouse import connect
from ml import evaluate, monitoring
from ml.baselines import BgNbdBaseline, add_bgnbd_columns, naive_revenue, with_bgnbd_features
from ml.cache import ModelCache, TrainingOutcome
from ml.config import (
    DEFAULT_LIMITS,
    LABEL,
    MODEL_FEATURES,
    OBJECTIVES,
    SEARCH_SPACE,
    TIERS,
    MlLimits,
)
from ml.cutoffs import Backtest, CutoffPlan, plan_cutoffs
from ml.dataset import (
    labelled_counts,
    load_labelled,
    load_scoring,
    load_scoring_batches,
    matrix,
    table_exists,
)
from ml.parallel import parallel_calls
from ml.score import PREDICTION_COLUMNS, score_batch
from ml.train import (
    FittedModels,
    RevenueModel,
    TierModel,
    choose_objective,
    fit_models,
    load_models,
    save_models,
    tier_codes,
)

log = logging.getLogger(__name__)

SUMMARY_METRICS = ("gini", "spearman", "rmse", "rmsle", "mae_log1p", "top10_share", "top20_share")

DDL = """
create schema if not exists gold;
create table if not exists gold.customer_predictions (
    customer_id varchar, as_of_date date, horizon_days integer, predicted_revenue double, p_purchase double,
    predicted_tier varchar, p_tier_none double, p_tier_low double, p_tier_mid double, p_tier_high double,
    bgnbd_expected_purchases double, bgnbd_p_alive double, bgnbd_clv double, naive_revenue double,
    top_drivers varchar, model_version varchar, is_baseline_only boolean, run_id varchar
);
create table if not exists gold.model_runs (
    run_id varchar, as_of date, horizon_days integer, status varchar, reason varchar,
    training_cutoffs varchar, training_rows bigint, validation_cutoff date, backtest_cutoffs varchar,
    objective varchar, parameters varchar, features varchar, model_version varchar, artifact_path varchar,
    artifact_sha256 varchar, metric_summary varchar, beat_baselines boolean, customers_scored bigint,
    champion varchar, tier_low_max double, tier_mid_max double, trained_as_of date
);
alter table gold.model_runs add column if not exists champion varchar;
alter table gold.model_runs add column if not exists tier_low_max double;
alter table gold.model_runs add column if not exists tier_mid_max double;
alter table gold.model_runs add column if not exists trained_as_of date;
create table if not exists gold.model_metrics (
    run_id varchar, as_of date, cutoff date, model varchar, metric varchar, value double
);
create table if not exists gold.model_performance_history (
    evaluated_as_of date, prediction_as_of date, horizon_days integer, model_version varchar, model varchar,
    metric varchar, value double, run_id varchar
);
"""


@dataclass
class MlRunSummary:
    """What the run did, for the DAG's log and the run summary."""

    run_id: str
    as_of: date
    horizon_days: int
    status: str  # 'trained' or 'baseline_only'
    reason: str
    model_version: str
    beat_baselines: bool | None
    customers_scored: int
    training_cutoffs: list[date]
    training_rows: int
    champion: str | None = None
    objective: str | None = None
    backtest_summary: dict[str, dict[str, float]] = field(default_factory=dict)
    artifact_dir: Path | None = None
    trained_as_of: date | None = None
    model_from_cache: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able summary the DAG task returns (XCom): verdict, champion, rows scored, version."""
        headline = ("gini", "spearman", "rmse")
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "horizon_days": self.horizon_days,
            "status": self.status,
            "verdict": self.reason,
            "champion": self.champion,
            "beat_baselines": self.beat_baselines,
            "objective": self.objective,
            "model_version": self.model_version,
            "trained_as_of": self.trained_as_of.isoformat() if self.trained_as_of else None,
            "model_from_cache": self.model_from_cache,
            "customers_scored": self.customers_scored,
            "training_cutoffs": [cutoff.isoformat() for cutoff in self.training_cutoffs],
            "training_rows": self.training_rows,
            "backtest_means": {
                model: {metric: _finite(metrics.get(metric, math.nan)) for metric in headline}
                for model, metrics in self.backtest_summary.items()
                if model in (evaluate.CHAMPION_MODEL, *evaluate.BASELINE_MODELS)
            },
            "artifact_path": str(self.artifact_dir) if self.artifact_dir else None,
        }


# --- reading -----------------------------------------------------------------------------------------


def timed(phase: str) -> AbstractContextManager[None]:
    """Log how long a phase of the stage took (`ML stage <phase>: <seconds> s`)."""
    return cltv.timing.timed(log, f"ML stage {phase}")


def trainability(
    counts: dict[date, tuple[int, int]], cutoffs: tuple[date, ...], limits: MlLimits
) -> str | None:
    """Why these cutoffs cannot train a model, or None when they can."""
    labelled = [c for c in cutoffs if c in counts]
    if not labelled:
        names = [c.isoformat() for c in cutoffs]
        return f"no labelled cutoff among {names}: history is shorter than one horizon"
    rows = sum(counts[c][0] for c in labelled)
    buyers = sum(counts[c][1] for c in labelled)
    if rows < limits.min_training_rows:
        return (
            f"{rows} labelled customers over {len(labelled)} cutoff(s), fewer than {limits.min_training_rows}"
        )
    if buyers < limits.min_training_buyers:
        return f"{buyers} buyers in the label windows, fewer than {limits.min_training_buyers}"
    return None


def assert_no_leakage(training: tuple[date, ...], test_cutoff: date, horizon_days: int) -> None:
    """Every training label window must end by the date the model is used at."""
    late = [c for c in training if c + timedelta(days=horizon_days) > test_cutoff]
    if late:
        raise ValueError(f"training cutoffs {late} have labels after {test_cutoff}: leakage")


@dataclass
class FoldData:
    backtest: Backtest
    train: pd.DataFrame
    test: pd.DataFrame


def _read_backtests(
    con: duckdb.DuckDBPyConnection, plan: CutoffPlan, horizon_days: int, counts: dict, limits: MlLimits
) -> tuple[list[FoldData], list[str]]:
    folds, skipped = [], []
    for backtest in plan.backtests:
        assert_no_leakage(backtest.training, backtest.cutoff, horizon_days)
        reason = trainability(counts, backtest.training, limits)
        if reason is None and backtest.cutoff not in counts:
            reason = "its own labels are missing"
        if reason:
            skipped.append(f"{backtest.cutoff}: {reason}")
            continue
        labelled = tuple(c for c in backtest.training if c in counts)
        folds.append(
            FoldData(
                backtest,
                load_labelled(con, labelled, horizon_days, limits.max_backtest_rows),
                load_labelled(con, [backtest.cutoff], horizon_days, limits.max_test_rows),
            )
        )
    return folds, skipped


# --- backtests ---------------------------------------------------------------------------------------


def backtest_fold(
    fold: FoldData, horizon_days: int, limits: MlLimits, fitted: Mapping[date, BgNbdBaseline]
) -> dict[str, dict[str, float]]:
    """{model: metrics} on the fold's test cutoff for XGBoost (chosen and per objective) and the baselines.

    `fitted`: BG/NBD per cutoff (`fit_cutoff_baselines`), for the training rows' features and as the
    baseline on the test cutoff."""
    train = with_bgnbd_features(fold.train, horizon_days, limits.max_baseline_fit_rows, fitted)
    models = fit_models(train, max_search_rows=limits.max_search_rows)
    bgnbd = fitted.get(fold.backtest.cutoff) or BgNbdBaseline().fit(fold.test, limits.max_baseline_fit_rows)
    baseline = bgnbd.predict(fold.test, horizon_days)
    test = add_bgnbd_columns(fold.test, baseline)
    actual = test[LABEL].to_numpy(dtype=np.float64)
    x = matrix(test)
    predictions = {"naive": naive_revenue(test, horizon_days)}
    for objective, model in models.by_objective.items():
        predictions[f"xgb_{objective}"] = model.predict(x)
    if bgnbd.is_fitted:
        predictions["bgnbd"] = baseline["clv"].to_numpy()
    results = {
        model: evaluate.regression_metrics(actual, predicted) for model, predicted in predictions.items()
    }
    results["tier_classifier"] = evaluate.classifier_metrics(
        tier_codes(actual, models.tiers.thresholds), models.tiers.predict_proba(x)
    )
    log.info(
        "backtest %s: %s",
        fold.backtest.cutoff,
        {
            m: {k: round(r[k], 4) for k in ("gini", "spearman", "rmse")}
            for m, r in results.items()
            if "gini" in r
        },
    )
    return results


def fit_cutoff_baselines(samples: Mapping[date, pd.DataFrame], limits: MlLimits) -> dict[date, BgNbdBaseline]:
    """BG/NBD + Gamma-Gamma fitted once per cutoff, on the cutoff's own sample of customers, side by side.

    The backtest folds and the final training share most cutoffs (fold k trains on the cutoffs after fold
    k + 1's): fitted per frame, a run fitted ~20 models for 8 cutoffs, each a few hundred ms of lifetimes'
    optimiser. A cutoff's model depends on that cutoff's customers only, so every frame gets the same one.
    """
    cutoffs = sorted(samples)
    jobs = [partial(BgNbdBaseline().fit, samples[c], limits.max_baseline_fit_rows) for c in cutoffs]
    return dict(zip(cutoffs, parallel_calls(jobs), strict=True))


def with_served_objective(
    per_cutoff: dict[date, dict[str, dict[str, float]]], objective: str
) -> dict[date, dict[str, dict[str, float]]]:
    """Each backtest's `xgboost` rows: the served objective's regression metrics and the tier metrics."""
    served = {}
    for cutoff, results in per_cutoff.items():
        rows = {name: metrics for name, metrics in results.items() if name != "tier_classifier"}
        rows["xgboost"] = {
            **results[f"xgb_{objective}"],
            **results.get("tier_classifier", {}),
            f"objective_{objective}": 1.0,
        }
        served[cutoff] = rows
    return served


def summarise(
    per_cutoff: dict[date, dict[str, dict[str, float]]],
    metrics: tuple[str, ...] = SUMMARY_METRICS,
    over: Callable[[list[dict[str, float]], str], float] = evaluate.mean_over_backtests,
) -> dict[str, dict[str, float]]:
    """Each summary metric over the backtests (the mean unless `over` says otherwise), per model."""
    models = sorted({model for results in per_cutoff.values() for model in results})
    return {
        model: {
            metric: over([r[model] for r in per_cutoff.values() if model in r], metric) for metric in metrics
        }
        for model in models
    }


def median_rmse(per_cutoff: dict[date, dict[str, dict[str, float]]]) -> dict[str, float]:
    """Median RMSE over the backtests, per model: the objective choice's tie-break (ml.train)."""
    medians = summarise(per_cutoff, ("rmse",), evaluate.median_over_backtests)
    return {model: values["rmse"] for model, values in medians.items()}


# --- artifacts ---------------------------------------------------------------------------------------


def model_digest(models: FittedModels) -> str:
    """A hash of the fitted boosters: the same inputs give the same model version."""
    digest = hashlib.sha256()
    for name in sorted(models.revenue.parts):
        digest.update(bytes(models.revenue.parts[name].get_booster().save_raw("json")))
    digest.update(bytes(models.tiers.classifier.get_booster().save_raw("json")))
    digest.update(json.dumps(models.tiers.calibrators).encode())
    return digest.hexdigest()


def write_artifacts(directory: Path, models: FittedModels, metrics: dict, features: dict) -> str:
    """Models as XGBoost JSON, metrics.json, features.json and a manifest; returns the manifest's sha256."""
    files = save_models(models, directory)
    for name, content in (("metrics.json", metrics), ("features.json", features)):
        path = directory / name
        path.write_text(json.dumps(content, indent=2, default=_json_default, allow_nan=True))
        files.append(path)
    manifest = {path.name: file_sha256(path) for path in sorted(files)}
    manifest_path = directory / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return file_sha256(manifest_path)


def _json_default(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def _finite(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


# --- the stage ---------------------------------------------------------------------------------------


def run_ml_stage(
    settings: Settings,
    *,
    run_id: str,
    as_of: date,
    horizon_days: int,
    n_training_cutoffs: int = 3,
    n_backtests: int = 3,
    limits: MlLimits = DEFAULT_LIMITS,
    anchor: date | None = None,
    training_key: str | None = None,
) -> dict[str, Any]:
    """Backtest and train as of `anchor` (default as_of), score every customer known at as_of, monitor, and
    write the gold ML tables.

    With a `training_key` (ml.cache) the model of that key is served from the cache when it is there, else
    trained and cached; then the training and backtest cutoffs' rows of gold.customer_features are retired
    (the key stands for them), so a run that reused the model and one that trained leave the same gold.

    Returns the JSON-able summary of `MlRunSummary.to_dict` (status, verdict, champion, beat_baselines,
    model_version, customers_scored, ...). Raises ValueError/TypeError for bad arguments and RuntimeError
    when the warehouse has no gold.customer_features.
    """
    check_arguments(run_id, as_of, horizon_days, n_training_cutoffs, n_backtests)
    plan = plan_cutoffs(as_of, horizon_days, n_training_cutoffs, n_backtests, anchor=anchor)
    summary = _run_stage(settings, run_id, plan, horizon_days, limits, training_key)
    return summary.to_dict()


def check_arguments(
    run_id: object, as_of: object, horizon_days: object, n_training_cutoffs: object, n_backtests: object
) -> None:
    """Refuse arguments that would train on nonsense, naming the bad one."""
    if not isinstance(run_id, str) or not run_id.strip():
        raise ValueError(f"run_id must be a non-empty string, got {run_id!r}")
    if not isinstance(as_of, date) or isinstance(as_of, datetime):
        raise TypeError(f"as_of must be a datetime.date, got {as_of!r}")
    for name, value, least in (
        ("horizon_days", horizon_days, 1),
        ("n_training_cutoffs", n_training_cutoffs, 1),
        ("n_backtests", n_backtests, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if value < least:
            raise ValueError(f"{name} must be at least {least}, got {value}")


@dataclass
class TrainingData:
    """What training as of the anchor reads: the labelled training rows, the backtest folds, BG/NBD's
    per-cutoff samples, and why it cannot train (None when it can)."""

    labelled: tuple[date, ...]
    reason: str | None
    train: pd.DataFrame | None = None
    folds: list[FoldData] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    baseline_samples: dict[date, pd.DataFrame] = field(default_factory=dict)


def read_training_data(
    con: duckdb.DuckDBPyConnection, plan: CutoffPlan, horizon_days: int, limits: MlLimits
) -> TrainingData:
    counts = labelled_counts(con, plan.all, horizon_days)
    reason = trainability(counts, plan.training, limits)
    labelled = tuple(c for c in plan.training if c in counts)
    if reason is not None:
        return TrainingData(labelled, reason)
    train = load_labelled(con, labelled, horizon_days, limits.max_training_rows)
    folds, skipped = _read_backtests(con, plan, horizon_days, counts, limits)
    # BG/NBD per cutoff: the labelled training sample of each cutoff a frame holds
    fold_cutoffs = {c for fold in folds for c in (fold.backtest.cutoff, *fold.backtest.training)}
    samples = {
        cutoff: load_labelled(con, [cutoff], horizon_days, limits.max_baseline_fit_rows)
        for cutoff in sorted(({*labelled} | fold_cutoffs) & set(counts))
    }
    return TrainingData(labelled, None, train, folds, skipped, samples)


def train_as_of_anchor(
    settings: Settings,
    data: TrainingData,
    plan: CutoffPlan,
    horizon_days: int,
    limits: MlLimits,
    fitted: Mapping[date, BgNbdBaseline],
) -> TrainingOutcome:
    """Backtests, the objective they choose, the final fit and its artifacts; baselines only when the
    history is too short."""
    anchor = plan.trained_as_of
    if data.reason is not None:
        log.warning("ML stage for %s publishes baselines only: %s", plan.scoring, data.reason)
        return TrainingOutcome("baseline_only", data.reason, anchor, data.labelled)
    jobs = [partial(backtest_fold, fold, horizon_days, limits, fitted) for fold in data.folds]
    with timed(f"backtests ({len(data.folds)})"):
        fold_results = parallel_calls(jobs)
    train = with_bgnbd_features(data.train, horizon_days, limits.max_baseline_fit_rows, fitted)
    raw_per_cutoff = {
        fold.backtest.cutoff: result for fold, result in zip(data.folds, fold_results, strict=True)
    }
    data.folds, data.train = [], None
    objective = choose_objective(summarise(raw_per_cutoff), median_rmse=median_rmse(raw_per_cutoff))
    per_cutoff = with_served_objective(raw_per_cutoff, objective)
    summary = summarise(per_cutoff)
    beat = evaluate.beats_baselines(summary) if per_cutoff else None
    champion = evaluate.champion(summary) if per_cutoff else None
    with timed("final fit"):
        models = fit_models(
            train, max_search_rows=limits.max_search_rows, objectives=(objective,), served=objective
        )
    model_version = f"xgb-{anchor:%Y%m%d}-h{horizon_days}-{model_digest(models)[:12]}"
    artifact_dir = settings.models_dir / model_version
    # Nothing run-specific (no run id, no timestamp): a re-run of the same inputs rewrites the same
    # files, so every gold.model_runs row of this model_version keeps a valid artifact_sha256.
    metrics_json = {
        "trained_as_of": anchor,
        "horizon_days": horizon_days,
        "champion_rule": evaluate.__doc__.split("Champion rule: ")[1].split("\n\n")[0],
        "beat_baselines": beat,
        "champion": champion,
        "objective_rule": (
            "among objectives beating the baselines by the champion rule (else all): highest mean "
            "backtest Gini; within 0.005 of it, lowest median RMSE"
        ),
        "backtest_summary": summary,
        "backtests": {c.isoformat(): r for c, r in per_cutoff.items()},
        "validation_search": models.search,
    }
    features_json = {
        "features": list(MODEL_FEATURES),
        "label": f"{LABEL} floored at 0, revenue in (cutoff, cutoff + {horizon_days} days]",
        "tiers": list(TIERS),
        "tier_thresholds": list(models.tiers.thresholds),
        "training_cutoffs": data.labelled,
        "validation_cutoff": max(data.labelled),
        "training_rows": models.training_rows,
    }
    artifact_sha = write_artifacts(artifact_dir, models, metrics_json, features_json)
    return TrainingOutcome(
        status="trained",
        reason=_verdict(beat, per_cutoff, data.skipped),
        trained_as_of=anchor,
        training_cutoffs=data.labelled,
        training_rows=models.training_rows,
        model_version=model_version,
        artifact_path=str(artifact_dir),
        artifact_sha256=artifact_sha,
        beat_baselines=beat,
        champion=champion,
        summary=summary,
        backtests=per_cutoff,
    )


def _run_stage(
    settings: Settings,
    run_id: str,
    plan: CutoffPlan,
    horizon_days: int,
    limits: MlLimits,
    training_key: str | None,
) -> MlRunSummary:
    as_of = plan.scoring
    assert_no_leakage(plan.training, plan.trained_as_of, horizon_days)
    cache = ModelCache(settings.models_dir)
    outcome = cache.lookup(training_key) if training_key else None
    from_cache = outcome is not None
    if from_cache:
        log.info(
            "serving %s, trained as of %s, from the model cache", outcome.model_version, outcome.trained_as_of
        )

    with timed("reads"), connect(settings, read_only=True) as con:
        if not table_exists(con, "gold", "customer_features"):
            raise RuntimeError("gold.customer_features does not exist: run dbt before the ML stage")
        data = read_training_data(con, plan, horizon_days, limits) if outcome is None else None
        baseline_samples = data.baseline_samples if data else {}
        baseline_samples[as_of] = load_scoring(con, as_of, limits.max_baseline_fit_rows)

    with timed(f"baselines ({len(baseline_samples)} cutoffs)"):
        fitted = fit_cutoff_baselines(baseline_samples, limits)
    bgnbd = fitted.pop(as_of)
    del baseline_samples
    if data is not None:
        data.baseline_samples = {}
        outcome = train_as_of_anchor(settings, data, plan, horizon_days, limits, fitted)
        del data
        if training_key and outcome.status == "trained":
            cache.store(training_key, outcome)
        # served from its JSON and artifacts exactly as a cached model is: a miss writes what a hit would
        outcome = TrainingOutcome.from_json(outcome.to_json())

    revenue, tiers = load_models(Path(outcome.artifact_path)) if outcome.status == "trained" else (None, None)
    model_version = outcome.model_version or f"baseline-{as_of:%Y%m%d}-h{horizon_days}"
    with timed("scoring"):
        predictions = _score(settings, as_of, horizon_days, model_version, revenue, tiers, bgnbd, limits)
    predictions["run_id"] = run_id
    trained = revenue is not None
    run_row = {
        "run_id": run_id,
        "as_of": as_of,
        "horizon_days": horizon_days,
        "status": outcome.status,
        "reason": outcome.reason,
        "trained_as_of": outcome.trained_as_of if trained else None,
        "training_cutoffs": json.dumps([c.isoformat() for c in outcome.training_cutoffs]),
        "training_rows": outcome.training_rows,
        "validation_cutoff": max(outcome.training_cutoffs) if trained else None,
        "backtest_cutoffs": json.dumps([c.isoformat() for c in outcome.backtests]),
        "objective": revenue.objective if trained else None,
        "parameters": json.dumps(
            {
                "objectives_compared": list(OBJECTIVES),
                "search_space": list(SEARCH_SPACE),
                "chosen": {"config": revenue.config, "rounds": revenue.rounds} if trained else None,
                "bgnbd": bgnbd.params.to_dict() if bgnbd.params else None,
            }
        ),
        "features": json.dumps(list(MODEL_FEATURES)),
        "model_version": model_version,
        "artifact_path": outcome.artifact_path,
        "artifact_sha256": outcome.artifact_sha256,
        "metric_summary": json.dumps(
            {m: {k: _finite(v) for k, v in r.items()} for m, r in outcome.summary.items()}
        ),
        "beat_baselines": outcome.beat_baselines,
        "customers_scored": len(predictions),
        "champion": outcome.champion if trained else ("bgnbd" if bgnbd.is_fitted else "naive"),
        # the tier classifier's boundaries, so readers of gold tier amounts exactly as the model does
        "tier_low_max": tiers.thresholds[0] if trained else None,
        "tier_mid_max": tiers.thresholds[1] if trained else None,
    }
    metric_rows = [
        (run_id, as_of, cutoff, model, metric, float(value))
        for cutoff, results in outcome.backtests.items()
        for model, metrics in results.items()
        for metric, value in metrics.items()
    ]
    retired = plan.model_cutoffs if training_key else []
    with timed("monitoring and writes"):
        _write(settings, as_of, run_id, predictions, run_row, metric_rows, retired)
    return MlRunSummary(
        run_id=run_id,
        as_of=as_of,
        horizon_days=horizon_days,
        status=outcome.status,
        reason=outcome.reason,
        model_version=model_version,
        beat_baselines=outcome.beat_baselines,
        customers_scored=len(predictions),
        training_cutoffs=list(outcome.training_cutoffs),
        training_rows=outcome.training_rows,
        champion=run_row["champion"],
        objective=run_row["objective"],
        backtest_summary=outcome.summary,
        artifact_dir=Path(outcome.artifact_path) if outcome.artifact_path else None,
        trained_as_of=outcome.trained_as_of if trained else None,
        model_from_cache=from_cache,
    )


def _verdict(beat: bool | None, per_cutoff: dict, skipped: list[str]) -> str:
    if beat is None:
        message = "no backtest could be run" + (f" ({'; '.join(skipped)})" if skipped else "")
        log.warning("XGBoost serves without out-of-time evidence: %s", message)
        return f"trained; {message}"
    cutoffs = ", ".join(c.isoformat() for c in per_cutoff)
    if not beat:
        log.warning(
            "WARNING: XGBoost did NOT beat the baselines on the backtests (%s); its predictions are "
            "published with beat_baselines = false, compare with bgnbd_clv and naive_revenue",
            cutoffs,
        )
        return f"trained; XGBoost did not beat the baselines on backtests {cutoffs}"
    return f"trained; XGBoost beat both baselines on backtests {cutoffs}"


def _score(
    settings: Settings,
    as_of: date,
    horizon_days: int,
    model_version: str,
    revenue: RevenueModel | None,
    tiers: TierModel | None,
    bgnbd: BgNbdBaseline,
    limits: MlLimits,
) -> pd.DataFrame:
    """Every customer known at as_of, scored batch by batch through a read-only connection."""
    batches = []
    with connect(settings, read_only=True) as con:
        for frame in load_scoring_batches(con, as_of, limits.score_batch_rows):
            batches.append(
                score_batch(
                    frame,
                    as_of=as_of,
                    horizon_days=horizon_days,
                    model_version=model_version,
                    revenue=revenue,
                    tiers=tiers,
                    bgnbd=bgnbd,
                )
            )
    if not batches:
        return pd.DataFrame(columns=list(PREDICTION_COLUMNS))
    return pd.concat(batches, ignore_index=True)


def _write(
    settings: Settings,
    as_of: date,
    run_id: str,
    predictions: pd.DataFrame,
    run_row: dict,
    metric_rows: list[tuple],
    retired_cutoffs: list[date],
) -> None:
    """Every gold ML table in one transaction of one writer connection, and the retirement of the
    `retired_cutoffs` of gold.customer_features (`retire_training_cutoffs`)."""
    runs = pd.DataFrame([run_row])
    metrics = pd.DataFrame(metric_rows, columns=["run_id", "as_of", "cutoff", "model", "metric", "value"])
    with connect(settings) as con:
        con.execute(DDL)
        con.execute("begin transaction")
        try:
            con.register("ml_predictions", predictions)
            con.register("ml_runs", runs)
            con.register("ml_metrics", metrics)
            con.execute("delete from gold.customer_predictions where as_of_date = ?", [as_of])
            con.execute("insert into gold.customer_predictions by name select * from ml_predictions")
            con.execute("delete from gold.model_runs where run_id = ?", [run_id])
            con.execute("insert into gold.model_runs by name select * from ml_runs")
            con.execute("delete from gold.model_metrics where run_id = ?", [run_id])
            con.execute("insert into gold.model_metrics by name select * from ml_metrics")
            for judged_at, prediction_as_of in monitoring.judgements(con, as_of, run_row["horizon_days"]):
                matured = monitoring.matured_predictions(
                    con, judged_at, prediction_as_of, columns=monitoring.MONITORED_COLUMNS
                )
                history = monitoring.performance_rows(matured, judged_at)
                history["run_id"] = run_id
                con.register("ml_history", history)
                con.execute(
                    "delete from gold.model_performance_history where evaluated_as_of = ? "
                    "and (prediction_as_of = ? or ?::date is null)",
                    [judged_at, prediction_as_of, prediction_as_of],
                )
                con.execute("insert into gold.model_performance_history by name select * from ml_history")
            retire_training_cutoffs(con, retired_cutoffs)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise


def retire_training_cutoffs(con: duckdb.DuckDBPyConnection, cutoffs: list[date]) -> None:
    """Delete the rows of these training and backtest cutoffs from gold.customer_features, except a cutoff
    that is some run's as_of, whose labels are cleared: it goes back to how its own run built it.

    Once the model they trained is cached they are never read again, and a run that served the cached model
    never built them: without this, a hit and a miss would leave different gold. The same end state as
    customer_features' post-hooks give earlier runs' cutoffs (drop_training_only_cutoffs,
    clear_labels_of_earlier_runs).
    """
    if not cutoffs:
        return
    days = ", ".join(f"date '{cutoff.isoformat()}'" for cutoff in cutoffs)
    not_a_run_date = (
        "and cutoff_date not in (select distinct as_of_date from gold.rfm_segment_history)"
        if table_exists(con, "gold", "rfm_segment_history")
        else ""
    )
    con.execute(f"delete from gold.customer_features where cutoff_date in ({days}) {not_a_run_date}")
    con.execute(
        "update gold.customer_features set label_revenue = null, label_orders = null "
        f"where cutoff_date in ({days}) and (label_revenue is not null or label_orders is not null)"
    )
