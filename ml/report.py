"""The comparison table of a warehouse's ML run: XGBoost against both baselines, as the README shows it.

`python -m ml.report [--as-of YYYY-MM-DD]` reads the run that produced the predictions of `as_of` (default:
the latest as_of in gold.model_runs) and prints two Markdown tables:

- the real next H days: that run's published predictions (gold.customer_predictions, features as of
  as_of only) judged against the net revenue every customer actually had in (as_of, as_of + H], recomputed
  from gold.fct_invoices like ml.monitoring does. This is a backtest whose test cutoff is as_of itself; it
  exists only when the warehouse holds lines up to as_of + H (a historical run on data that goes on);
- the mean of the run's out-of-time backtests, from gold.model_metrics.

It only reads the warehouse.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from cltv.config import Settings
from cltv.warehouse import connect
from ml import evaluate
from ml.monitoring import SCORED_COLUMNS, matured_predictions
from ml.train import tier_codes

MODELS = (("xgboost", "XGBoost"), ("bgnbd", "BG/NBD + Gamma-Gamma"), ("naive", "naive (past rate x H)"))
COLUMNS = (
    ("gini", "normalized Gini", "{:.3f}"),
    ("spearman", "Spearman", "{:.3f}"),
    ("rmse", "RMSE", "{:,.0f}"),
    ("rmsle", "RMSLE", "{:.3f}"),
    ("mae_log1p", "MAE log1p", "{:.3f}"),
    ("top10_share", "top 10% share", "{:.1%}"),
    ("top20_share", "top 20% share", "{:.1%}"),
)
TIER_METRICS = (("tier_accuracy", "accuracy"), ("tier_macro_f1", "macro-F1"), ("tier_log_loss", "log loss"))


def markdown_table(results: Mapping[str, Mapping[str, float]]) -> str:
    """One row per model present in `results` ({model: {metric: value}}), the headline metrics as columns."""
    lines = [
        "| model | " + " | ".join(title for _, title, _ in COLUMNS) + " |",
        "|---|" + "---:|" * len(COLUMNS),
    ]
    for model, title in MODELS:
        if model not in results:
            continue
        cells = [_cell(results[model].get(metric, math.nan), fmt) for metric, _, fmt in COLUMNS]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: float, fmt: str) -> str:
    return "n/a" if value is None or math.isnan(value) else fmt.format(value)


def latest_run(con: duckdb.DuckDBPyConnection, as_of: date | None) -> pd.Series:
    """The run whose predictions are published for `as_of` (default: the latest as_of with a run)."""
    if as_of is None:
        row = con.execute("select max(as_of) from gold.model_runs").fetchone()
        if row[0] is None:
            raise LookupError("gold.model_runs is empty: run the ML stage first")
        as_of = row[0]
    runs = con.execute(
        """
        select runs.* from gold.model_runs as runs
        where runs.as_of = ?
          and runs.run_id in (select run_id from gold.customer_predictions where as_of_date = ?)
        """,
        [as_of, as_of],
    ).df()
    if runs.empty:
        raise LookupError(f"no ML run has published predictions for as_of {as_of}")
    return runs.iloc[-1]


def backtest_means(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[dict[str, dict[str, float]], list]:
    """{model: {metric: mean over the run's backtest cutoffs}} and the cutoffs."""
    rows = con.execute(
        "select cutoff, model, metric, value from gold.model_metrics where run_id = ?", [run_id]
    ).df()
    cutoffs = sorted(pd.to_datetime(rows["cutoff"]).dt.date.unique()) if not rows.empty else []
    means = rows.groupby(["model", "metric"])["value"].mean() if not rows.empty else pd.Series(dtype=float)
    result: dict[str, dict[str, float]] = {}
    for (model, metric), value in means.items():
        result.setdefault(model, {})[metric] = float(value)
    return result, cutoffs


def realised_evaluation(
    con: duckdb.DuckDBPyConnection, as_of: date, horizon_days: int, tier_thresholds: Sequence[float] | None
) -> tuple[dict[str, dict[str, float]], str]:
    """Metrics of the as_of predictions against the revenue realised in (as_of, as_of + H], or why not."""
    window_end = as_of + timedelta(days=horizon_days)
    (data_end,) = con.execute("select max(invoice_date)::date from gold.fct_invoices").fetchone()
    if data_end is None or data_end < window_end:
        return {}, f"not available: the warehouse's lines end {data_end}, before {window_end}"
    matured = matured_predictions(con, window_end, prediction_as_of=as_of)
    actual = matured["actual_revenue"].to_numpy(dtype=np.float64)
    results = {}
    for model, column in SCORED_COLUMNS.items():
        predicted = matured[column].to_numpy(dtype=np.float64)
        if model == "xgboost" and bool(matured["is_baseline_only"].all()):
            continue
        if np.isfinite(predicted).all():
            results[model] = evaluate.regression_metrics(actual, predicted)
    if "xgboost" in results and tier_thresholds is not None:
        probabilities = matured[["p_tier_none", "p_tier_low", "p_tier_mid", "p_tier_high"]].to_numpy(float)
        codes = tier_codes(actual, (float(tier_thresholds[0]), float(tier_thresholds[1])))
        results["xgboost"].update(evaluate.classifier_metrics(codes, probabilities))
    first, last = as_of + timedelta(days=1), window_end
    return results, f"{len(matured):,} customers known at {as_of}, revenue of {first}..{last}"


def _tier_thresholds(artifact_path: str | None) -> list[float] | None:
    if not artifact_path or not (Path(artifact_path) / "features.json").exists():
        return None
    return json.loads((Path(artifact_path) / "features.json").read_text())["tier_thresholds"]


def _tier_line(metrics: Mapping[str, float]) -> str:
    parts = [f"{title} {metrics[key]:.3f}" for key, title in TIER_METRICS if key in metrics]
    return "Tier classifier (XGBoost): " + ", ".join(parts) if parts else ""


def report(settings: Settings, as_of: date | None = None) -> str:
    """The Markdown the README shows for the run that published `as_of`'s predictions."""
    with connect(settings, read_only=True) as con:
        run = latest_run(con, as_of)
        run_as_of = pd.Timestamp(run["as_of"]).date()
        horizon = int(run["horizon_days"])
        realised, realised_note = realised_evaluation(
            con, run_as_of, horizon, _tier_thresholds(run["artifact_path"])
        )
        backtests, cutoffs = backtest_means(con, run["run_id"])
    lines = [
        f"ML run `{run['run_id']}`: as_of {run_as_of}, horizon {horizon} days, status {run['status']}, "
        f"objective {run['objective']}, model `{run['model_version']}`",
        f"Verdict: {run['reason']} (beat_baselines = {run['beat_baselines']}, champion = {run['champion']})",
        "",
        f"Real next {horizon} days ({realised_note}):",
        "",
    ]
    if realised:
        lines += [markdown_table(realised), "", _tier_line(realised.get("xgboost", {})), ""]
    names = ", ".join(str(c) for c in cutoffs) or "none"
    lines += [f"Mean of {len(cutoffs)} out-of-time backtests (test cutoffs {names}):", ""]
    lines += [markdown_table(backtests), "", _tier_line(backtests.get("xgboost", {}))]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.report", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="the run's as_of (default: latest)"
    )
    args = parser.parse_args(argv)
    print(report(Settings.from_env(), args.as_of), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
