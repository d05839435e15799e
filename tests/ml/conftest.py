"""A simulated shop built in code: invoices from a BG/NBD-like process, and the gold tables ML reads.

`gold.customer_features` is computed here in pandas with the contract's definitions (features use lines
dated <= cutoff, labels lines dated cutoff + 1 .. cutoff + H, NULL when that window ends after as_of), so the
ML tests do not depend on dbt. `gold.fct_invoices` holds the lines monitoring recomputes revenue from.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cltv.config import Settings
from cltv.warehouse import connect
from ml.cutoffs import one_year_before, plan_cutoffs

AS_OF = date(2011, 9, 9)
HORIZON = 90
START = date(2009, 12, 1)


def simulate_invoices(n_customers: int, start: date, end: date, seed: int) -> pd.DataFrame:
    """One row per invoice: heterogeneous purchase rates, drop-out, spend levels, a Q4 peak, some returns."""
    rng = np.random.default_rng(seed)
    days = (end - start).days
    rows = []
    for customer in range(n_customers):
        first = int(rng.integers(0, days - 20))
        rate = rng.gamma(0.9, 1 / 35)  # purchases per day: mean about one every 39 days
        drop = rng.beta(1.0, 6.0)  # chance of leaving after each purchase
        spend = rng.lognormal(3.6, 0.9)  # customer's typical basket
        country = "United Kingdom" if rng.random() < 0.85 else "France"
        day = first
        while day <= days:
            when = start + timedelta(days=day)
            basket = round(spend * rng.gamma(4.0, 0.25), 2)
            invoice = f"{customer}-{day}"
            items = int(rng.integers(1, 30))
            products = int(rng.integers(1, 8))
            rows.append((f"C{customer:05d}", invoice, when, basket, items, products, False, country))
            if rng.random() < 0.05:
                rows.append(
                    (f"C{customer:05d}", "C" + invoice, when, round(-0.3 * basket, 2), -1, 0, True, country)
                )
            if rng.random() < drop:
                break
            season = 1.8 if when.month in (10, 11) else 1.0
            day += max(1, int(rng.exponential(1 / (rate * season))))
    return pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "invoice_no",
            "invoice_date",
            "revenue",
            "items",
            "products",
            "is_cancellation",
            "country",
        ],
    )


def _window(lines: pd.DataFrame, cutoff: date, days: int) -> pd.DataFrame:
    return lines[lines["invoice_date"] > cutoff - timedelta(days=days)]


def features_at(invoices: pd.DataFrame, cutoff: date, horizon: int, as_of: date) -> pd.DataFrame:
    """gold.customer_features rows of one cutoff (customers with a purchase by then)."""
    past = invoices[invoices["invoice_date"] <= cutoff]
    buys = past[~past["is_cancellation"]]
    grouped = buys.groupby("customer_id")
    out = pd.DataFrame(
        {
            "first": grouped["invoice_date"].min(),
            "last": grouped["invoice_date"].max(),
            "frequency": grouped["invoice_no"].nunique(),
            "purchase_revenue": grouped["revenue"].sum(),
            "basket_value_max": grouped["revenue"].max(),
            "items": grouped["items"].sum(),
            "distinct_products": grouped["products"].sum(),
            "seasonal": buys[pd.to_datetime(buys["invoice_date"]).dt.month.isin([11, 12])]
            .groupby("customer_id")["revenue"]
            .sum(),
        }
    )
    out["seasonal"] = out["seasonal"].fillna(0.0)
    out["monetary"] = past.groupby("customer_id")["revenue"].sum()
    returned = -past[past["is_cancellation"]].groupby("customer_id")["revenue"].sum()
    out["returned"] = returned.reindex(out.index).fillna(0.0)
    purchase_days = buys.groupby("customer_id")["invoice_date"].apply(lambda s: sorted(set(s)))
    gaps = purchase_days.apply(lambda d: [(b - a).days for a, b in itertools.pairwise(d)])
    out["ipt_mean_days"] = gaps.apply(lambda g: float(np.mean(g)) if g else np.nan)
    out["ipt_std_days"] = gaps.apply(lambda g: float(np.std(g)) if g else np.nan)
    out["frequency_repeat_days"] = purchase_days.apply(len) - 1
    out["recency_days"] = (cutoff - out["last"]).apply(lambda d: d.days)
    out["tenure_days"] = (cutoff - out["first"]).apply(lambda d: d.days)
    out["recency_bgnbd_days"] = (out["last"] - out["first"]).apply(lambda d: d.days)
    for days in (30, 90, 180, 365):
        window = _window(past, cutoff, days)
        out[f"revenue_{days}d"] = (
            window.groupby("customer_id")["revenue"].sum().reindex(out.index).fillna(0.0)
        )
        orders = window[~window["is_cancellation"]].groupby("customer_id")["invoice_no"].nunique()
        out[f"orders_{days}d"] = orders.reindex(out.index).fillna(0).astype(int)
    prior = past[
        (past["invoice_date"] <= cutoff - timedelta(days=90))
        & (past["invoice_date"] > cutoff - timedelta(days=180))
    ]
    prior_revenue = prior.groupby("customer_id")["revenue"].sum().reindex(out.index).fillna(0.0)
    out["trend_revenue_90d"] = out["revenue_90d"] - prior_revenue
    year_before = one_year_before(cutoff)
    last_year = past[
        (past["invoice_date"] > year_before)
        & (past["invoice_date"] <= year_before + timedelta(days=min(horizon, 365)))
    ]
    observed = invoices["invoice_date"].min() <= year_before + timedelta(days=1)
    last_year_orders = last_year[~last_year["is_cancellation"]].groupby("customer_id")["invoice_no"].nunique()
    out["revenue_last_year_window"] = (
        last_year.groupby("customer_id")["revenue"].sum().reindex(out.index).fillna(0.0)
        if observed
        else np.nan
    )
    out["orders_last_year_window"] = (
        last_year_orders.reindex(out.index).fillna(0).astype(float) if observed else np.nan
    )
    out["spend_per_day"] = out["monetary"] / (out["tenure_days"] + 1)
    out["basket_value_mean"] = out["purchase_revenue"] / out["frequency"]
    out["basket_items_mean"] = out["items"] / out["frequency"]
    out["return_rate"] = out["returned"] / out["purchase_revenue"]
    out["seasonal_share"] = out["seasonal"] / out["purchase_revenue"]
    out["country"] = past.groupby("customer_id")["country"].last()
    future = invoices[
        (invoices["invoice_date"] > cutoff) & (invoices["invoice_date"] <= cutoff + timedelta(days=horizon))
    ]
    covered = cutoff + timedelta(days=horizon) <= as_of
    label = future.groupby("customer_id")["revenue"].sum().reindex(out.index).fillna(0.0)
    label_orders = future[~future["is_cancellation"]].groupby("customer_id")["invoice_no"].nunique()
    out["label_revenue"] = label if covered else np.nan
    out["label_orders"] = label_orders.reindex(out.index).fillna(0).astype(float) if covered else np.nan
    out["horizon_days"] = horizon
    out["cutoff_date"] = cutoff
    out["is_training_sample"] = True  # fewer customers than customer_features samples
    out = out.reset_index()
    keep = [
        "customer_id",
        "cutoff_date",
        "country",
        "recency_days",
        "frequency",
        "monetary",
        "tenure_days",
        "ipt_mean_days",
        "ipt_std_days",
        "revenue_30d",
        "revenue_90d",
        "revenue_180d",
        "revenue_365d",
        "orders_30d",
        "orders_90d",
        "orders_180d",
        "orders_365d",
        "trend_revenue_90d",
        "spend_per_day",
        "basket_value_mean",
        "basket_value_max",
        "basket_items_mean",
        "distinct_products",
        "return_rate",
        "seasonal_share",
        "frequency_repeat_days",
        "recency_bgnbd_days",
        "revenue_last_year_window",
        "orders_last_year_window",
        "horizon_days",
        "label_revenue",
        "label_orders",
        "is_training_sample",
    ]
    return out[keep]


def write_gold(settings: Settings, invoices: pd.DataFrame, features: pd.DataFrame) -> None:
    """Replace gold.customer_features and gold.fct_invoices with these frames."""
    with connect(settings) as con:
        con.execute("create schema if not exists gold")
        con.register("features_df", features)
        con.register("invoices_df", invoices)
        con.execute(
            "create or replace table gold.customer_features as "
            "select * replace (cutoff_date::date as cutoff_date, monetary::decimal(18, 3) as monetary) "
            "from features_df"
        )
        con.execute(
            "create or replace table gold.fct_invoices as "
            "select customer_id, invoice_no, is_cancellation, invoice_date::timestamp as invoiced_at, "
            "invoice_date::date as invoice_date, revenue::decimal(18, 3) as revenue from invoices_df"
        )


def build_shop(
    settings: Settings,
    *,
    n_customers: int = 1500,
    as_of: date = AS_OF,
    horizon: int = HORIZON,
    cutoffs: Iterable[date] | None = None,
    start: date = START,
    seed: int = 7,
    data_end: date | None = None,
) -> pd.DataFrame:
    """Simulate invoices from `start` to `data_end` (default as_of) and write the gold tables a run reads."""
    invoices = simulate_invoices(n_customers, start, data_end or as_of, seed)
    cutoffs = sorted(set(cutoffs) if cutoffs is not None else set(plan_cutoffs(as_of, horizon).all))
    frames = [features_at(invoices, c, horizon, as_of) for c in cutoffs if c >= start]
    write_gold(settings, invoices, pd.concat(frames, ignore_index=True))
    return invoices


def stage_settings(root: Path) -> Settings:
    """Settings of a warehouse and models folder under `root`, for a module's shared ML run."""
    return Settings.from_env(
        {
            "CLTV_WAREHOUSE": str(root / "warehouse" / "cltv.duckdb"),
            "CLTV_MODELS_DIR": str(root / "warehouse" / "models"),
            "CLTV_DUCKDB_MEMORY_LIMIT": "2GB",
        }
    )


def query(settings: Settings, sql: str, params: list | None = None) -> pd.DataFrame:
    with connect(settings, read_only=True) as con:
        return con.execute(sql, params or []).df()


@pytest.fixture
def shop(settings: Settings) -> Settings:
    """A warehouse holding a simulated shop's features for every cutoff of the default plan."""
    build_shop(settings)
    return settings
