"""Customer lists for campaigns: one row per customer scored at the run's as_of, filtered, as CSV.

Every audience is a filter over the same customer base (`customer_base`): the customer's prediction for
the next `horizon_days`, their RFM segment and value tier at as_of, and what they spent in the window that
just closed (net revenue floored at 0, like the model's label) with its tier (see `dashboard.tiers`).
The named audiences are fixed filters, so the builder and the named lists cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import duckdb
import pandas as pd

from dashboard.data import frame
from dashboard.tiers import model_run_id, tier_sql, tier_thresholds

AUDIENCE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "country",
    "segment",
    "value_tier",
    "current_tier",
    "predicted_tier",
    "last_period_revenue",
    "predicted_revenue",
    "p_purchase",
    "bgnbd_p_alive",
    "top_drivers",
)

BASE_SQL = f"""
with last_window as (
    select customer_id, sum(revenue)::double as revenue
    from gold.fct_invoices
    where invoice_date > $as_of::date - to_days($horizon) and invoice_date <= $as_of
    group by customer_id
),
base as (
    select
        p.customer_id,
        d.country,
        s.segment,
        s.value_tier,
        greatest(coalesce(w.revenue, 0), 0) as last_period_revenue,
        p.predicted_revenue,
        p.p_purchase,
        p.predicted_tier,
        p.bgnbd_p_alive,
        p.top_drivers
    from gold.customer_predictions as p
    left join last_window as w on w.customer_id = p.customer_id
    left join gold.rfm_segments as s on s.customer_id = p.customer_id and s.as_of_date = p.as_of_date
    left join gold.dim_customer as d on d.customer_id = p.customer_id
    where p.as_of_date = $as_of
)
select *, {tier_sql("last_period_revenue")} as current_tier
from base
"""


@dataclass(frozen=True)
class AudienceFilter:
    """Conditions that all hold (an empty tuple or None leaves that field unfiltered)."""

    segments: tuple[str, ...] = ()
    value_tiers: tuple[str, ...] = ()  # RFM value tier at as_of: Low, Mid, High
    current_tiers: tuple[str, ...] = ()  # tier of last period's revenue: none, low, mid, high
    predicted_tiers: tuple[str, ...] = ()  # the model's tier for the next period
    min_predicted_revenue: float | None = None
    max_predicted_revenue: float | None = None
    min_p_purchase: float | None = None
    max_p_purchase: float | None = None
    min_last_period_revenue: float | None = None
    min_drop_share: float | None = None  # predicted revenue at least this share below last period's


LIST_CONDITIONS = {
    "segments": "segment",
    "value_tiers": "value_tier",
    "current_tiers": "current_tier",
    "predicted_tiers": "predicted_tier",
}
BOUND_CONDITIONS = {
    "min_predicted_revenue": "predicted_revenue >= ${name}",
    "max_predicted_revenue": "predicted_revenue <= ${name}",
    "min_p_purchase": "p_purchase >= ${name}",
    "max_p_purchase": "p_purchase <= ${name}",
    "min_last_period_revenue": "last_period_revenue >= ${name}",
    "min_drop_share": "last_period_revenue > 0 and predicted_revenue <= (1 - ${name}) * last_period_revenue",
}


def likely_to_spend(minimum: float) -> AudienceFilter:
    """Predicted to spend at least `minimum` next period."""
    return AudienceFilter(min_predicted_revenue=minimum)


def spending_drop(share: float = 0.3) -> AudienceFilter:
    """Bought last period, and predicted to spend at least `share` (30%) less next period."""
    return AudienceFilter(min_drop_share=share)


def predicted_no_purchase() -> AudienceFilter:
    """The model's most likely tier for next period is none: no positive revenue."""
    return AudienceFilter(predicted_tiers=("none",))


def high_value_at_risk() -> AudienceFilter:
    """RFM value tier High, and the model expects little or nothing next period (tier none or low)."""
    return AudienceFilter(value_tiers=("High",), predicted_tiers=("none", "low"))


def where_clause(spec: AudienceFilter) -> tuple[str, dict[str, object]]:
    """SQL conditions and their named parameters; `true` when nothing is filtered."""
    conditions, params = [], {}
    for field in fields(spec):
        value = getattr(spec, field.name)
        if field.name in LIST_CONDITIONS and value:
            conditions.append(f"list_contains(${field.name}, {LIST_CONDITIONS[field.name]})")
            params[field.name] = list(value)
        elif field.name in BOUND_CONDITIONS and value is not None:
            conditions.append("(" + BOUND_CONDITIONS[field.name].format(name=field.name) + ")")
            params[field.name] = float(value)
    return " and ".join(conditions) or "true", params


def base_params(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, object]:
    """as_of, the predictions' horizon and the tier thresholds of the run that scored as_of."""
    (horizon,) = con.execute(
        "select max(horizon_days) from gold.customer_predictions where as_of_date = ?", [as_of]
    ).fetchone()
    thresholds = tier_thresholds(con, model_run_id(con, as_of))
    low, high = thresholds if thresholds else (None, None)
    return {"as_of": as_of, "horizon": horizon or 0, "tier_low": low, "tier_high": high}


def customer_base(con: duckdb.DuckDBPyConnection, as_of: date) -> pd.DataFrame:
    """Every customer scored at as_of with segment, last and predicted period (movement reads this too)."""
    return audience(con, as_of, AudienceFilter())


def audience(con: duckdb.DuckDBPyConnection, as_of: date, spec: AudienceFilter) -> pd.DataFrame:
    """The customers matching `spec`, highest predicted revenue first."""
    condition, params = where_clause(spec)
    columns = ", ".join(AUDIENCE_COLUMNS)
    sql = (
        f"select {columns} from ({BASE_SQL}) where {condition} "
        "order by predicted_revenue desc nulls last, customer_id"
    )
    return frame(con, sql, {**base_params(con, as_of), **params})


CSV_ROUNDING = {"last_period_revenue": 2, "predicted_revenue": 2, "p_purchase": 3, "bgnbd_p_alive": 3}


def to_csv(customers: pd.DataFrame) -> bytes:
    """The list as UTF-8 CSV with a header, amounts to the cent, as a marketing tool imports it."""
    return customers.round(CSV_ROUNDING).to_csv(index=False).encode("utf-8")
