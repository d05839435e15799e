"""How earlier runs' predictions turned out, once their horizon has passed.

A prediction made as of date p with horizon H is judged by every later run whose as_of closes its window
within one more horizon, p + H <= as_of < p + 2H: its realised revenue is the customer's net revenue in
(p, p + H] recomputed from gold.fct_invoices (floored at 0, as in training), so it does not depend on which
cutoffs dbt happened to build, and lines loaded late, up to a horizon after the window, still count. Every
served column (XGBoost, BG/NBD, naive) gets the same metrics as the backtests, into
gold.model_performance_history, one set per (prediction as_of, judging as_of): re-running a judgement
replaces it, and earlier judgements stay. The bound is what keeps a monthly run's cost flat: judging every
matured prediction again joins each one with its customer's lines (at 100M lines ~4 s per prediction date),
so without it a run would grow slower with every month of history. It depends on dates only, so backfills
in any order judge the same predictions.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

from ml import evaluate
from ml.dataset import table_exists

HISTORY_COLUMNS = (
    "evaluated_as_of",
    "prediction_as_of",
    "horizon_days",
    "model_version",
    "model",
    "metric",
    "value",
)
SCORED_COLUMNS = {"xgboost": "predicted_revenue", "bgnbd": "bgnbd_clv", "naive": "naive_revenue"}
MONITORED_METRICS = (
    "gini",
    "spearman",
    "rmse",
    "rmsle",
    "mae_log1p",
    "top10_share",
    "top20_share",
    "mean_predicted",
    "mean_actual",
    "customers",
)


def matured_predictions(
    con: duckdb.DuckDBPyConnection, as_of: date, prediction_as_of: date | None = None
) -> pd.DataFrame:
    """Predictions whose window (p, p + H] ended by `as_of`, less than a horizon before it (module
    docstring; only those made at `prediction_as_of` when given), with the revenue realised in it."""
    if not table_exists(con, "gold", "customer_predictions") or not table_exists(con, "gold", "fct_invoices"):
        return pd.DataFrame()
    return con.execute(
        """
        with matured as (
            select * from gold.customer_predictions
            where as_of_date + horizon_days * interval 1 day <= ?::date
              and as_of_date + 2 * horizon_days * interval 1 day > ?::date
              and (?::date is null or as_of_date = ?::date)
        ),
        realised as (
            select matured.customer_id, matured.as_of_date, sum(fct.revenue)::double as revenue
            from matured
            join gold.fct_invoices as fct
              on fct.customer_id = matured.customer_id
             and fct.invoice_date::date > matured.as_of_date
             and fct.invoice_date::date <= matured.as_of_date + matured.horizon_days * interval 1 day
            group by all
        )
        select matured.*, greatest(coalesce(realised.revenue, 0), 0) as actual_revenue
        from matured
        left join realised using (customer_id, as_of_date)
        order by matured.as_of_date, matured.customer_id
        """,
        [as_of, as_of, prediction_as_of, prediction_as_of],
    ).df()


def performance_rows(matured: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Long rows of HISTORY_COLUMNS: one per prediction date, model and metric."""
    rows = []
    if matured.empty:
        return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    for (prediction_as_of, horizon, version), group in matured.groupby(
        ["as_of_date", "horizon_days", "model_version"], sort=True
    ):
        actual = group["actual_revenue"].to_numpy(dtype=np.float64)
        for model, column in SCORED_COLUMNS.items():
            predicted = group[column].to_numpy(dtype=np.float64)
            if not np.isfinite(predicted).all():
                continue
            if model == "xgboost" and bool(group["is_baseline_only"].all()):
                continue  # that run served a baseline: it is judged under the baseline's name
            metrics = evaluate.regression_metrics(actual, predicted)
            rows.extend(
                (
                    as_of,
                    pd.Timestamp(prediction_as_of).date(),
                    int(horizon),
                    version,
                    model,
                    name,
                    metrics[name],
                )
                for name in MONITORED_METRICS
            )
    return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
