"""Turning fitted models and baselines into rows of gold.customer_predictions, batch by batch.

Each row carries XGBoost's revenue and tier probabilities, the baselines beside them (so BI can compare),
and the three features that moved the customer's prediction most (XGBoost's pred_contribs, on the model's
log scale), as a readable string such as `revenue_90d +0.812; recency_days -0.540; frequency +0.201`.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cltv.sql import literal
from ml.baselines import BgNbdBaseline, add_bgnbd_columns, naive_revenue
from ml.config import MODEL_FEATURES, TIERS
from ml.dataset import matrix
from ml.train import RevenueModel, TierModel

PREDICTION_COLUMNS = (
    "customer_id",
    "as_of_date",
    "horizon_days",
    "predicted_revenue",
    "p_purchase",
    "predicted_tier",
    "p_tier_none",
    "p_tier_low",
    "p_tier_mid",
    "p_tier_high",
    "bgnbd_expected_purchases",
    "bgnbd_p_alive",
    "bgnbd_clv",
    "naive_revenue",
    "top_drivers",
    "model_version",
    "is_baseline_only",
)
N_DRIVERS = 3


def top_drivers(contributions: np.ndarray, n: int = N_DRIVERS) -> list[str]:
    """The `n` features with the largest absolute contribution, largest first, with their signed value.

    The text is DuckDB's `printf`, the same as Python's `%+.3f`: a Python loop formatting three numbers per
    customer took ~4.6 s of a 100M-line run's 760K customers, DuckDB ~1 s.
    """
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :n]
    values = np.take_along_axis(contributions, order, axis=1).astype(np.float64)
    drivers = pa.table(
        {f"feature_{k}": order[:, k].astype(np.int32) for k in range(order.shape[1])}
        | {f"value_{k}": values[:, k] for k in range(order.shape[1])}
    )
    names = "[" + ", ".join(literal(name) for name in MODEL_FEATURES) + "]"
    pattern = literal("; ".join(["%s %+.3f"] * order.shape[1]))
    arguments = ", ".join(f"{names}[feature_{k} + 1], value_{k}" for k in range(order.shape[1]))
    with duckdb.connect() as con:
        con.register("drivers", drivers)
        return (
            con.execute(f"select printf({pattern}, {arguments}) as text from drivers")
            .fetchnumpy()["text"]
            .tolist()
        )


def score_batch(
    frame: pd.DataFrame,
    *,
    as_of: date,
    horizon_days: int,
    model_version: str,
    revenue: RevenueModel | None,
    tiers: TierModel | None,
    bgnbd: BgNbdBaseline,
) -> pd.DataFrame:
    """Prediction rows of one batch; without models (short history) the baselines fill predicted_revenue."""
    naive = naive_revenue(frame, horizon_days)
    baseline = bgnbd.predict(frame, horizon_days)
    out = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "as_of_date": as_of,
            "horizon_days": horizon_days,
            "bgnbd_expected_purchases": baseline["expected_purchases"].to_numpy(),
            "bgnbd_p_alive": baseline["p_alive"].to_numpy(),
            "bgnbd_clv": baseline["clv"].to_numpy(),
            "naive_revenue": naive,
            "model_version": model_version,
        }
    )
    if revenue is None or tiers is None:
        clv = baseline["clv"].to_numpy()
        out["predicted_revenue"] = np.where(np.isfinite(clv), clv, naive)
        for column in ("p_purchase", *(f"p_tier_{t}" for t in TIERS)):
            out[column] = np.nan
        out["predicted_tier"] = None
        out["top_drivers"] = None
        out["is_baseline_only"] = True
        return out[list(PREDICTION_COLUMNS)]
    x = matrix(add_bgnbd_columns(frame, baseline))
    out["predicted_revenue"] = revenue.predict(x)
    probabilities = tiers.predict_proba(x)
    for k, tier in enumerate(TIERS):
        out[f"p_tier_{tier}"] = probabilities[:, k]
    out["p_purchase"] = 1.0 - probabilities[:, 0]
    out["predicted_tier"] = np.asarray(TIERS, dtype=object)[probabilities.argmax(axis=1)]
    out["top_drivers"] = top_drivers(revenue.contributions(x))
    out["is_baseline_only"] = False
    return out[list(PREDICTION_COLUMNS)]
