"""How earlier runs' predictions turned out, once their horizon has passed.

A prediction made as of date p with horizon H is judged by every later run whose as_of closes its window
within one more horizon, p + H <= as_of < p + 2H: its realised revenue is the customer's net revenue in
(p, p + H] recomputed from gold.fct_invoices (floored at 0, as in training), so it does not depend on which
cutoffs dbt happened to build, and lines loaded late, up to a horizon after the window, still count. Every
served column (XGBoost, BG/NBD, naive) gets the same metrics as the backtests, into
gold.model_performance_history, one set per (prediction as_of, judging as_of): re-running a judgement
replaces it, and earlier judgements stay. The bound is what keeps a monthly run's cost flat: judging every
matured prediction again joins each one with its customer's lines (at 100M lines ~4 s per prediction date),
so without it a run would grow slower with every month of history.

It depends on dates only, and each judgement is made once both its dates have run: a run judges the
matured predictions as of its own date, and its own predictions as of the later run dates that already
judged (`judgements`). A backfill that runs a later as_of first finds no earlier predictions to judge; the
earlier run, coming second, judges them for it. So backfills in any order end with the same judgements.
"""

from __future__ import annotations

from collections.abc import Sequence
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


# What a report on a prediction reads (ml.report): `select *` also brought every run's top_drivers text into
# pandas (2.2 s instead of 0.4 s for three prediction dates of 760,000 customers).
JUDGED_COLUMNS = (
    "customer_id",
    "as_of_date",
    "horizon_days",
    "model_version",
    "is_baseline_only",
    *SCORED_COLUMNS.values(),
    "p_tier_none",
    "p_tier_low",
    "p_tier_mid",
    "p_tier_high",
)


# What the monitoring's metrics read: without the customer ids and tier probabilities, three prediction
# dates of 760,000 customers reach pandas in 1.0 s instead of 2.9 s.
MONITORED_COLUMNS = (
    "as_of_date",
    "horizon_days",
    "model_version",
    "is_baseline_only",
    *SCORED_COLUMNS.values(),
)


def judgements(
    con: duckdb.DuckDBPyConnection, as_of: date, horizon_days: int
) -> list[tuple[date, date | None]]:
    """(judging as_of, prediction as_of or None for all) pairs a run at `as_of` writes (module docstring).

    Its own date judging every matured prediction, then each later run date within its own predictions'
    window, p + H <= date < p + 2H, judging them only. Run dates are those of gold.model_runs.
    """
    pairs: list[tuple[date, date | None]] = [(as_of, None)]
    if table_exists(con, "gold", "model_runs"):
        later = con.execute(
            """
            select distinct as_of from gold.model_runs
            where as_of >= $as_of::date + $horizon * interval 1 day
              and as_of < $as_of::date + 2 * $horizon * interval 1 day
            order by as_of
            """,
            {"as_of": as_of, "horizon": horizon_days},
        ).fetchall()
        pairs.extend((judged_at, as_of) for (judged_at,) in later)
    return pairs


def matured_predictions(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    prediction_as_of: date | None = None,
    columns: Sequence[str] = JUDGED_COLUMNS,
) -> pd.DataFrame:
    """Predictions whose window (p, p + H] ended by `as_of`, less than a horizon before it (module
    docstring; only those made at `prediction_as_of` when given): their `columns` and the revenue realised
    in the window, ordered by prediction date and customer.

    The lines are summed per customer and window first, reading only the days of the matured windows
    (fct_invoices' zone maps skip the rest), then joined to the predictions on equality: joining every
    prediction with its customer's lines by a date range scanned all of fct_invoices.
    """
    if not table_exists(con, "gold", "customer_predictions") or not table_exists(con, "gold", "fct_invoices"):
        return pd.DataFrame(columns=[*columns, "actual_revenue"])
    # the join's and the order's keys are read whether or not they are returned
    read = ", ".join(dict.fromkeys([*columns, "customer_id", "as_of_date"]))
    selected = ", ".join(f"matured.{column}" for column in columns)
    return con.execute(
        f"""
        with matured_windows as (
            select distinct as_of_date, horizon_days
            from gold.customer_predictions
            where as_of_date + horizon_days * interval 1 day <= $as_of::date
              and as_of_date + 2 * horizon_days * interval 1 day > $as_of::date
              and ($prediction_as_of::date is null or as_of_date = $prediction_as_of::date)
        ),
        lines as (
            select customer_id, invoice_date::date as invoice_day, revenue
            from gold.fct_invoices
            where invoice_date > (select min(as_of_date) from matured_windows)
              and invoice_date < (
                  select max(as_of_date + (horizon_days + 1) * interval 1 day) from matured_windows
              )
        ),
        realised as (
            select windows.as_of_date, lines.customer_id, sum(lines.revenue)::double as revenue
            from lines
            join matured_windows as windows
              on lines.invoice_day > windows.as_of_date
             and lines.invoice_day <= windows.as_of_date + windows.horizon_days * interval 1 day
            group by all
        ),
        matured as (
            select {read}
            from gold.customer_predictions
            where (as_of_date, horizon_days) in (select (as_of_date, horizon_days) from matured_windows)
        )
        select {selected}, greatest(coalesce(realised.revenue, 0), 0) as actual_revenue
        from matured
        left join realised using (customer_id, as_of_date)
        order by matured.as_of_date, matured.customer_id
        """,
        {"as_of": as_of, "prediction_as_of": prediction_as_of},
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
            metrics = evaluate.regression_metrics(actual, predicted, deciles=False)  # MONITORED_METRICS only
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
