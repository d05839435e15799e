"""Reading the serving file: one short-lived read-only connection per read, and the queries behind each page.

The dashboard never opens the pipeline's warehouse, only `$CLTV_SERVING_DIR/cltv.duckdb` (see
`cltv.publish`). DuckDB caches an open database per path inside a process, so a connection kept open
would pin the publication it first saw: `read` opens, runs one loader and closes, and each page loads all
it shows (the publication record included) through that one connection, so a page shows one whole run.
Loaders take a connection and return plain values or DataFrames, so tests call them on a file built in
code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

import duckdb
import pandas as pd

from cltv.config import Settings
from cltv.publish import open_serving
from dashboard.tiers import model_run_id

T = TypeVar("T")

BASELINE_MODELS = ("naive", "bgnbd")
CHAMPION_MODEL = "xgboost"
DEFAULT_HORIZON_DAYS = 90  # the pipeline's default, for a publication without predictions
QUALITY_METRICS = ("gini", "spearman", "top10_share", "top20_share", "rmse", "rmsle")


@dataclass(frozen=True)
class PublicationInfo:
    """Which run a page shows, and how fresh its data is."""

    publication_id: str
    run_id: str
    as_of: date
    published_at: datetime
    horizon_days: int | None  # of the predictions at as_of; None when the run published no predictions
    latest_invoice_date: date | None


def read(loader: Callable[[duckdb.DuckDBPyConnection], T], settings: Settings | None = None) -> T:
    """Run `loader` on a fresh read-only connection to the current publication, then close it."""
    with open_serving(settings or Settings.from_env()) as con:
        return loader(con)


def used_params(sql: str, params: dict[str, object] | None) -> dict[str, object]:
    """The named parameters that `sql` names: DuckDB refuses a query given parameters it does not use."""
    return {name: value for name, value in (params or {}).items() if re.search(rf"\${name}\b", sql)}


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None) -> pd.DataFrame:
    return con.execute(sql, used_params(sql, params)).df()


def published_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select table_name from duckdb_tables() where schema_name = 'gold'").fetchall()
    return {name for (name,) in rows}


def publication(con: duckdb.DuckDBPyConnection) -> PublicationInfo:
    """The run inside the file (gold.publication), with the horizon and the last invoice date it holds."""
    tables = published_tables(con)
    horizon = (
        "(select max(horizon_days) from gold.customer_predictions where as_of_date = p.as_of)"
        if "customer_predictions" in tables
        else "null"
    )
    latest = "(select max(invoice_date) from gold.fct_invoices)" if "fct_invoices" in tables else "null"
    row = con.execute(
        f"""
        select p.publication_id, p.run_id, p.as_of, p.published_at, {horizon}, {latest}
        from gold.publication as p
        """
    ).fetchone()
    return PublicationInfo(*row)


# --- overview ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    customers: int
    active_customers: int  # with a purchase in the last horizon window
    revenue: float
    last_period_revenue: float
    orders: int
    predicted_revenue: float | None
    expected_buyers: float | None
    monthly: pd.DataFrame  # month_start_date, net_revenue, customer_count, order_count


def overview(con: duckdb.DuckDBPyConnection, pub: PublicationInfo) -> Overview:
    """Headline figures of the run: what happened up to as_of, and what the model expects next."""
    horizon = pub.horizon_days or DEFAULT_HORIZON_DAYS
    customers, active, revenue, last_revenue, orders = con.execute(
        """
        select
            count(distinct customer_id),
            count(distinct customer_id) filter (
                where invoice_date > $as_of::date - to_days($horizon) and not is_cancellation
            ),
            coalesce(sum(revenue), 0)::double,
            coalesce(sum(revenue) filter (where invoice_date > $as_of::date - to_days($horizon)), 0)::double,
            count(distinct invoice_no) filter (where not is_cancellation)
        from gold.fct_invoices
        where invoice_date <= $as_of
        """,
        {"as_of": pub.as_of, "horizon": horizon},
    ).fetchone()
    predicted, buyers = None, None
    if pub.horizon_days is not None:
        predicted, buyers = con.execute(
            "select sum(predicted_revenue), sum(p_purchase) from gold.customer_predictions "
            "where as_of_date = ?",
            [pub.as_of],
        ).fetchone()
    monthly = frame(
        con,
        """
        select month_start_date, net_revenue::double as net_revenue, customer_count, order_count
        from gold.report_sales
        where as_of_date = (select max(as_of_date) from gold.report_sales)
        order by month_start_date
        """,
    )
    return Overview(customers, active, revenue, last_revenue, orders, predicted, buyers, monthly)


# --- segments ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segments:
    by_segment_tier: pd.DataFrame  # segment, value_tier, customers, revenue
    heat_map: pd.DataFrame  # recency_score, frequency_score, customers, mean_monetary
    history: pd.DataFrame  # as_of_date, segment, customers, share


def segments(con: duckdb.DuckDBPyConnection, pub: PublicationInfo) -> Segments:
    """RFM segments at as_of, the R x F grid, and every as_of the segment history holds."""
    params = {"as_of": pub.as_of}
    by_segment_tier = frame(
        con,
        """
        select segment, value_tier, count(*) as customers, sum(monetary)::double as revenue
        from gold.rfm_segments where as_of_date = $as_of
        group by all order by segment, value_tier
        """,
        params,
    )
    heat_map = frame(
        con,
        """
        select recency_score, frequency_score, count(*) as customers,
               avg(monetary)::double as mean_monetary
        from gold.rfm_segments where as_of_date = $as_of
        group by all order by all
        """,
        params,
    )
    history = frame(
        con,
        """
        select as_of_date, segment, count(*) as customers,
               count(*) / sum(count(*)) over (partition by as_of_date) as share
        from gold.rfm_segment_history where as_of_date <= $as_of
        group by as_of_date, segment order by as_of_date, segment
        """,
        params,
    )
    return Segments(by_segment_tier, heat_map, history)


# --- customer lookup ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerCard:
    customer_id: str
    profile: pd.DataFrame  # dim_customer, one row (empty when unknown)
    segment: pd.DataFrame  # rfm_segments at as_of
    features: pd.DataFrame  # customer_features at the cutoff as_of
    prediction: pd.DataFrame  # customer_predictions at as_of
    drivers: pd.DataFrame  # feature, contribution
    segment_history: pd.DataFrame  # rfm_segment_history rows, by as_of_date
    prediction_history: pd.DataFrame  # every as_of the customer was scored
    monthly_revenue: pd.DataFrame  # month, net_revenue


def top_customers(con: duckdb.DuckDBPyConnection, pub: PublicationInfo, limit: int = 20) -> pd.DataFrame:
    """The customers with the highest predicted revenue: a starting point for the lookup."""
    return frame(
        con,
        """
        select customer_id, predicted_revenue, predicted_tier
        from gold.customer_predictions where as_of_date = $as_of
        order by predicted_revenue desc, customer_id limit $limit
        """,
        {"as_of": pub.as_of, "limit": limit},
    )


def parse_drivers(text: str | None) -> pd.DataFrame:
    """`revenue_90d +0.812; recency_days -0.540` as rows (feature, contribution), in the given order."""
    rows = []
    for part in (text or "").split(";"):
        if part.strip():
            feature, value = part.strip().rsplit(" ", 1)
            rows.append((feature, float(value)))
    return pd.DataFrame(rows, columns=["feature", "contribution"])


def customer_card(con: duckdb.DuckDBPyConnection, pub: PublicationInfo, customer_id: str) -> CustomerCard:
    """Everything the serving file says about one customer at the run's as_of."""
    params = {"as_of": pub.as_of, "customer": customer_id}
    prediction = frame(
        con,
        "select * exclude (customer_id) from gold.customer_predictions "
        "where customer_id = $customer and as_of_date = $as_of",
        params,
    )
    drivers = parse_drivers(prediction["top_drivers"].iloc[0] if len(prediction) else None)
    return CustomerCard(
        customer_id=customer_id,
        profile=frame(con, "select * from gold.dim_customer where customer_id = $customer", params),
        segment=frame(
            con,
            "select * exclude (customer_id) from gold.rfm_segments "
            "where customer_id = $customer and as_of_date = $as_of",
            params,
        ),
        features=frame(
            con,
            "select * exclude (customer_id, label_revenue, label_orders) from gold.customer_features "
            "where customer_id = $customer and cutoff_date = $as_of",
            params,
        ),
        prediction=prediction,
        drivers=drivers,
        segment_history=frame(
            con,
            """
            select as_of_date, segment, value_tier, rfm_cell, recency_days, frequency,
                   monetary::double as monetary
            from gold.rfm_segment_history where customer_id = $customer and as_of_date <= $as_of
            order by as_of_date
            """,
            params,
        ),
        prediction_history=frame(
            con,
            """
            select as_of_date, predicted_revenue, p_purchase, predicted_tier, model_version, run_id
            from gold.customer_predictions where customer_id = $customer and as_of_date <= $as_of
            order by as_of_date
            """,
            params,
        ),
        monthly_revenue=frame(
            con,
            """
            select date_trunc('month', invoice_date)::date as month, sum(revenue)::double as net_revenue
            from gold.fct_invoices where customer_id = $customer and invoice_date <= $as_of
            group by all order by month
            """,
            params,
        ),
    )


# --- model quality -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelQuality:
    run_id: str | None  # the ML run whose predictions this publication holds for its as_of
    runs: pd.DataFrame  # gold.model_runs, newest first
    metrics_over_runs: pd.DataFrame  # run_id, as_of, model, metric, value (mean over backtest cutoffs)
    calibration: pd.DataFrame  # run_id, model, decile, predicted, actual (mean over backtest cutoffs)
    comparison: pd.DataFrame  # metric, then one column per model, for the shown run
    matured: pd.DataFrame  # gold.model_performance_history: predictions judged once their horizon passed


def model_quality(con: duckdb.DuckDBPyConnection, pub: PublicationInfo) -> ModelQuality:
    """Backtest metrics of every run, decile calibration, and this run's model against its baselines."""
    models = (CHAMPION_MODEL, *BASELINE_MODELS)
    params = {"models": list(models), "metrics": list(QUALITY_METRICS), "as_of": pub.as_of}
    runs = frame(
        con,
        """
        select run_id, as_of, horizon_days, status, beat_baselines, model_version, objective,
               training_rows, customers_scored, backtest_cutoffs, reason
        from gold.model_runs where as_of <= $as_of order by as_of desc, run_id desc
        """,
        {"as_of": pub.as_of},
    )
    metrics_over_runs = frame(
        con,
        """
        select run_id, as_of, model, metric, avg(value) as value, count(*) as backtests
        from gold.model_metrics
        where list_contains($models, model) and list_contains($metrics, metric) and as_of <= $as_of
        group by all order by as_of, model, metric
        """,
        params,
    )
    calibration = frame(
        con,
        """
        with deciles as (
            select run_id, model, cutoff, value,
                   regexp_extract(metric, 'decile_(\\d+)_', 1)::integer as decile,
                   metric like '%\\_predicted' escape '\\' as is_predicted
            from gold.model_metrics
            where metric like 'decile\\_%' escape '\\' and list_contains($models, model) and as_of <= $as_of
        )
        select run_id, model, decile,
               avg(value) filter (where is_predicted) as predicted,
               avg(value) filter (where not is_predicted) as actual
        from deciles group by all order by run_id, model, decile
        """,
        {"models": list(models), "as_of": pub.as_of},
    )
    run_id = model_run_id(con, pub.as_of)
    own = metrics_over_runs[metrics_over_runs["run_id"] == run_id]
    comparison = (
        own.pivot_table(index="metric", columns="model", values="value")
        .reindex(index=list(QUALITY_METRICS), columns=list(models))
        .rename_axis(columns=None)
        .reset_index()
    )
    matured = frame(
        con,
        """
        select evaluated_as_of, prediction_as_of, model, metric, value
        from gold.model_performance_history
        where list_contains($models, model) and list_contains($metrics, metric) and evaluated_as_of <= $as_of
        order by prediction_as_of, model, metric
        """,
        params,
    )
    return ModelQuality(run_id, runs, metrics_over_runs, calibration, comparison, matured)
