"""What each DAG task does, as plain functions: the DAG file stays configuration, and tests call these.

A run is described by its *plan* (a JSON-able dict fixed by the first task): the Airflow run id, the
`as_of` it closes, the horizon, the date its model is trained as of (`model_anchor`, by the `retrain`
cadence), the feature cutoffs training would need, and the landing folder. Every later task reads the plan,
never the wall clock, so re-running a run redoes exactly the same work. After ingest, `plan_model`
completes it: the key of the run's model (ml.cache) and, when that model is cached, the one feature cutoff
dbt then builds (as_of).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cltv.config import Settings, resolve_path
from cltv.period import Period, PeriodError, resolve_as_of, validate_horizon

if TYPE_CHECKING:
    from ml.cutoffs import CutoffPlan

log = logging.getLogger(__name__)


def run_date_of(context: dict[str, Any]) -> date:
    """The run's own date: its logical date, or for a manual run without one, when it was asked to run."""
    logical = context.get("logical_date")
    if logical is None:
        logical = context["dag_run"].run_after
    return logical.date()


def make_plan(
    *,
    run_id: str,
    run_date: date,
    as_of: str | date | None,
    horizon_days: int,
    n_training_cutoffs: int,
    landing_dir: str | None,
    full_refresh: bool,
    period: Period = "month",
    retrain: str = "quarterly",
) -> dict[str, Any]:
    """The validated plan of one run; raises `PeriodError` naming the bad parameter."""
    from ml.cutoffs import RETRAIN_CADENCES, model_anchor, plan_cutoffs

    resolved = resolve_as_of(as_of, run_date, period)
    horizon = validate_horizon(int(horizon_days))
    if retrain not in RETRAIN_CADENCES:
        raise PeriodError(f"retrain must be one of {', '.join(RETRAIN_CADENCES)}, got {retrain!r}")
    anchor = model_anchor(resolved, retrain)
    cutoffs = plan_cutoffs(resolved, horizon, n_training_cutoffs=int(n_training_cutoffs), anchor=anchor)
    return {
        "run_id": run_id,
        "as_of": resolved.isoformat(),
        "horizon_days": horizon,
        "n_training_cutoffs": int(n_training_cutoffs),
        "retrain": retrain,
        "model_anchor": anchor.isoformat(),
        "feature_cutoffs": [cutoff.isoformat() for cutoff in cutoffs.all],
        "landing_dir": landing_dir or None,
        "full_refresh": bool(full_refresh),
    }


def plan_from_context(context: dict[str, Any], period: Period) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    params = context["params"]
    try:
        plan = make_plan(
            run_id=context["run_id"],
            run_date=run_date_of(context),
            as_of=params.get("as_of"),
            horizon_days=params["horizon_days"],
            n_training_cutoffs=params["n_training_cutoffs"],
            landing_dir=params.get("landing_dir"),
            full_refresh=params["full_refresh"],
            period=period,
            retrain=params.get("retrain", "quarterly"),
        )
    except PeriodError as error:
        raise AirflowFailException(str(error)) from error
    log.info("run plan: %s", plan)
    return plan


def landing_dir_of(settings: Settings, plan: dict[str, Any]) -> Path:
    return resolve_path(plan["landing_dir"]) if plan.get("landing_dir") else settings.landing_dir


def run_ingest(settings: Settings, plan: dict[str, Any]) -> dict[str, Any]:
    """Load new landing files; a bad file is a data problem, so it fails the task without retries."""
    from airflow.sdk.exceptions import AirflowFailException

    from cltv.ingest import IngestError, ingest_landing

    try:
        summary = ingest_landing(settings, run_id=plan["run_id"], landing_dir=landing_dir_of(settings, plan))
    except IngestError as error:
        raise AirflowFailException(str(error)) from error
    return {
        "rows_loaded": summary.rows_loaded,
        "rows_rejected": summary.rows_rejected,
        "files_loaded": sum(1 for f in summary.files if f.status == "loaded"),
        "files_skipped": summary.files_skipped,
        "files_hashed": summary.files_hashed,
    }


def as_of_of(plan: dict[str, Any]) -> date:
    return date.fromisoformat(plan["as_of"])


def cutoff_plan_of(plan: dict[str, Any]) -> CutoffPlan:
    """The plan's cutoffs: as_of scored, training and backtests as of its model's anchor."""
    from ml.cutoffs import plan_cutoffs

    anchor = date.fromisoformat(plan.get("model_anchor") or plan["as_of"])
    return plan_cutoffs(
        as_of_of(plan), int(plan["horizon_days"]), int(plan["n_training_cutoffs"]), anchor=anchor
    )


def plan_model(settings: Settings, plan: dict[str, Any]) -> dict[str, Any]:
    """The plan completed after ingest: the key of the run's model and whether the cache holds it.

    A cached model needs no training or backtest features: dbt then builds the as_of cutoff only. Reads
    bronze.load_log and the model cache; writes nothing.
    """
    from cltv.warehouse import connect
    from ml.cache import ModelCache, training_key
    from ml.config import DEFAULT_LIMITS

    with connect(settings, read_only=True) as con:
        key = training_key(con, cutoff_plan_of(plan), int(plan["horizon_days"]), DEFAULT_LIMITS)
    cached = ModelCache(settings.models_dir).lookup(key) is not None
    log.info(
        "model trained as of %s: %s (key %s)",
        plan.get("model_anchor") or plan["as_of"],
        "cached, dbt builds the as_of cutoff only" if cached else "not cached, this run trains it",
        key[:12],
    )
    return {
        **plan,
        "training_key": key,
        "model_cached": cached,
        "feature_cutoffs": [plan["as_of"]] if cached else plan["feature_cutoffs"],
    }


def run_quality_gate(settings: Settings, plan: dict[str, Any], layer: str) -> dict[str, Any]:
    """Verify one layer's contracts; a failed check is a data problem: fail at once, never retry."""
    from airflow.sdk.exceptions import AirflowFailException

    from cltv.quality import DataQualityError, run_contracts

    try:
        report = run_contracts(
            settings,
            layer=layer,
            run_id=plan["run_id"],
            as_of=as_of_of(plan),
            full_refresh=bool(plan["full_refresh"]),
        )
    except DataQualityError as error:
        raise AirflowFailException(str(error)) from error
    return {
        "layer": layer,
        "checks": len(report.results),
        "warnings": [result.describe() for result in report.warnings],
    }


def run_ml(settings: Settings, plan: dict[str, Any]) -> dict[str, Any]:
    """Backtest, train and score (the ML stage logs loudly when XGBoost did not beat both baselines)."""
    from cltv.publish import staging_serving_copy
    from ml.pipeline import run_ml_stage

    cutoffs = cutoff_plan_of(plan)
    # publish starts from a copy of the current serving file: written now, beside the ML stage's CPU work
    with staging_serving_copy(settings):
        return run_ml_stage(
            settings,
            run_id=plan["run_id"],
            as_of=as_of_of(plan),
            horizon_days=int(plan["horizon_days"]),
            n_training_cutoffs=int(plan["n_training_cutoffs"]),
            anchor=cutoffs.trained_as_of,
            training_key=plan.get("training_key"),
        )


def run_publish(settings: Settings, plan: dict[str, Any]) -> dict[str, Any]:
    """Make this run's gold the current publication for BI readers (only after every gate passed)."""
    from cltv.publish import publish

    publication = publish(settings, run_id=plan["run_id"], as_of=as_of_of(plan))
    return {
        "publication_id": publication.publication_id,
        "duckdb_path": str(publication.duckdb_path),
        "tables": {table.name: table.rows for table in publication.tables},
    }
