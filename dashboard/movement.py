"""Tier movement: from each customer's current tier (last period) to the tier the model predicts next.

Both tiers use the run's thresholds (see `dashboard.tiers`): current tier from net revenue in
(as_of - horizon_days, as_of], predicted tier from gold.customer_predictions.predicted_tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from dashboard.audiences import base_params, customer_base
from dashboard.tiers import TIERS


@dataclass(frozen=True)
class Movement:
    thresholds: tuple[float, float] | None
    horizon_days: int
    counts: pd.DataFrame  # index current tier, one column per predicted tier (TIERS order)
    shares: pd.DataFrame  # counts over the row's total: where each current tier is predicted to go
    revenue: pd.DataFrame  # tier, last_period_revenue (by current tier), predicted_revenue (by predicted)


def transition_counts(base: pd.DataFrame) -> pd.DataFrame:
    """Customers by current tier (rows) and predicted tier (columns), every tier shown, zeros included."""
    known = base.dropna(subset=["current_tier", "predicted_tier"])
    counts = pd.crosstab(known["current_tier"], known["predicted_tier"])
    counts = counts.reindex(index=list(TIERS), columns=list(TIERS), fill_value=0).astype("int64")
    return counts.rename_axis(index="current tier", columns="predicted tier")


def transition_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Each row divided by its total; a tier without customers gives a row of zeros, not NaN."""
    totals = counts.sum(axis=1).replace(0, 1)
    return counts.div(totals, axis=0)


def revenue_by_tier(base: pd.DataFrame) -> pd.DataFrame:
    """Last period's revenue by current tier beside next period's predicted revenue by predicted tier."""
    last = base.groupby("current_tier")["last_period_revenue"].sum()
    predicted = base.groupby("predicted_tier")["predicted_revenue"].sum()
    return pd.DataFrame(
        {
            "tier": list(TIERS),
            "last_period_revenue": [float(last.get(tier, 0.0)) for tier in TIERS],
            "predicted_revenue": [float(predicted.get(tier, 0.0)) for tier in TIERS],
        }
    )


def movement(con: duckdb.DuckDBPyConnection, as_of: date) -> Movement:
    params = base_params(con, as_of)
    base = customer_base(con, as_of)
    thresholds = None if params["tier_low"] is None else (params["tier_low"], params["tier_high"])
    counts = transition_counts(base)
    return Movement(
        thresholds=thresholds,
        horizon_days=int(params["horizon"]),
        counts=counts,
        shares=transition_shares(counts),
        revenue=revenue_by_tier(base),
    )
