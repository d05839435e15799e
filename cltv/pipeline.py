"""What each DAG task does, as plain functions: the DAG file stays configuration, and tests call these.

A run is described by its *plan* (a JSON-able dict fixed by the first task): the Airflow run id, the
`as_of` it closes, the horizon, the feature cutoffs dbt builds, and the landing folder. Every later task
reads the plan, never the wall clock, so re-running a run redoes exactly the same work.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from cltv.config import Settings, resolve_path
from cltv.period import Period, PeriodError, resolve_as_of, validate_horizon

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
) -> dict[str, Any]:
    """The validated plan of one run; raises `PeriodError` naming the bad parameter."""
    from ml.cutoffs import plan_cutoffs

    resolved = resolve_as_of(as_of, run_date, period)
    horizon = validate_horizon(int(horizon_days))
    cutoffs = plan_cutoffs(resolved, horizon, n_training_cutoffs=int(n_training_cutoffs))
    return {
        "run_id": run_id,
        "as_of": resolved.isoformat(),
        "horizon_days": horizon,
        "n_training_cutoffs": int(n_training_cutoffs),
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
    from ml.pipeline import run_ml_stage

    return run_ml_stage(
        settings,
        run_id=plan["run_id"],
        as_of=as_of_of(plan),
        horizon_days=int(plan["horizon_days"]),
        n_training_cutoffs=int(plan["n_training_cutoffs"]),
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
