"""Altair charts of the dashboard: pure functions of DataFrames, so each page stays a list of calls."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.tiers import TIERS

VALUE_TIERS = ["Low", "Mid", "High"]
MODEL_LABELS = {"xgboost": "XGBoost", "naive": "naive (last period)", "bgnbd": "BG/NBD + Gamma-Gamma"}


def monthly_revenue(monthly: pd.DataFrame) -> alt.Chart:
    """The shop's net revenue per month, with its customers and orders in the tooltip."""
    return revenue_bars(
        monthly,
        "month_start_date",
        money_format=",.0f",
        height=280,
        extra_tooltips=[
            alt.Tooltip("customer_count:Q", title="customers"),
            alt.Tooltip("order_count:Q", title="orders"),
        ],
    )


def revenue_bars(
    monthly: pd.DataFrame,
    month_column: str,
    *,
    money_format: str,
    height: int,
    extra_tooltips: list[alt.Tooltip] | None = None,
) -> alt.Chart:
    """One bar of net revenue per month."""
    month = f"yearmonth({month_column}):T"
    return (
        alt.Chart(monthly)
        .mark_bar()
        .encode(
            x=alt.X(month, title="month"),
            y=alt.Y("net_revenue:Q", title="net revenue"),
            tooltip=[
                alt.Tooltip(month, title="month"),
                alt.Tooltip("net_revenue:Q", format=money_format),
                *(extra_tooltips or []),
            ],
        )
        .properties(height=height)
    )


def by_segment(by_segment_tier: pd.DataFrame, measure: str, title: str) -> alt.Chart:
    """Horizontal bars per RFM segment, stacked by value tier."""
    return (
        alt.Chart(by_segment_tier)
        .mark_bar()
        .encode(
            y=alt.Y("segment:N", sort="-x", title=None),
            x=alt.X(f"sum({measure}):Q", title=title),
            color=alt.Color(
                "value_tier:N",
                sort=VALUE_TIERS,
                title="value tier",
                scale=alt.Scale(domain=VALUE_TIERS, range=["#b3cde3", "#6497b1", "#03396c"]),
            ),
            order=alt.Order("value_tier:N"),
            tooltip=["segment", "value_tier", alt.Tooltip(f"{measure}:Q", format=",.0f")],
        )
        .properties(height=320)
    )


def rfm_heat_map(heat_map: pd.DataFrame, measure: str, title: str) -> alt.LayerChart:
    """Recency score (rows) by frequency score (columns); 5 is best on both."""
    base = alt.Chart(heat_map).encode(
        x=alt.X("frequency_score:O", title="frequency score (5 = most orders)"),
        y=alt.Y("recency_score:O", sort="descending", title="recency score (5 = most recent)"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(f"{measure}:Q", title=title, scale=alt.Scale(scheme="blues")),
        tooltip=[
            "recency_score",
            "frequency_score",
            "customers",
            alt.Tooltip("mean_monetary:Q", format=",.0f"),
        ],
    )
    labels = base.mark_text(fontSize=13).encode(
        text=alt.Text(f"{measure}:Q", format=",.0f"),
        color=alt.condition(
            alt.datum[measure] > heat_map[measure].max() / 2, alt.value("white"), alt.value("black")
        ),
    )
    return (cells + labels).properties(height=320)


def segment_history(history: pd.DataFrame) -> alt.Chart:
    """Share of customers in each segment at every as_of the history holds."""
    return (
        alt.Chart(history)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(as_of_date):O", title="as of", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("share:Q", title="share of customers", axis=alt.Axis(format="%")),
            color=alt.Color("segment:N", title="segment", scale=alt.Scale(scheme="tableau20")),
            tooltip=[
                alt.Tooltip("yearmonthdate(as_of_date):T", title="as of"),
                "segment",
                "customers",
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(height=300)
    )


def transition_matrix(matrix: pd.DataFrame, fmt: str) -> alt.LayerChart:
    """A current tier x predicted tier grid with the value written in each cell."""
    long = matrix.rename_axis(index="current", columns="predicted").stack().rename("value").reset_index()
    base = alt.Chart(long).encode(
        x=alt.X(
            "predicted:N", sort=list(TIERS), title="predicted tier (next period)", axis=alt.Axis(labelAngle=0)
        ),
        y=alt.Y("current:N", sort=list(TIERS), title="current tier (last period)"),
    )
    cells = base.mark_rect().encode(color=alt.Color("value:Q", legend=None, scale=alt.Scale(scheme="greens")))
    labels = base.mark_text(fontSize=14).encode(
        text=alt.Text("value:Q", format=fmt),
        color=alt.condition(
            alt.datum.value > long["value"].max() / 2, alt.value("white"), alt.value("black")
        ),
    )
    return (cells + labels).properties(height=260)


def revenue_by_tier(revenue: pd.DataFrame) -> alt.Chart:
    long = revenue.melt(id_vars="tier", var_name="period", value_name="revenue")
    long["period"] = long["period"].map(
        {"last_period_revenue": "last period (actual)", "predicted_revenue": "next period (predicted)"}
    )
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("tier:N", sort=list(TIERS), title="tier", axis=alt.Axis(labelAngle=0)),
            xOffset="period:N",
            y=alt.Y("revenue:Q", title="revenue"),
            color=alt.Color("period:N", title=None),
            tooltip=["tier", "period", alt.Tooltip("revenue:Q", format=",.0f")],
        )
        .properties(height=300)
    )


def customer_monthly_revenue(monthly: pd.DataFrame) -> alt.Chart:
    """One customer's net revenue per month, to the cent."""
    return revenue_bars(monthly, "month", money_format=",.2f", height=220)


def drivers(drivers_frame: pd.DataFrame) -> alt.Chart:
    """Signed contributions (log scale of the model) of the features that moved the prediction most."""
    return (
        alt.Chart(drivers_frame)
        .mark_bar()
        .encode(
            y=alt.Y("feature:N", sort=None, title=None),
            x=alt.X("contribution:Q", title="contribution to the prediction (log scale)"),
            color=alt.condition(alt.datum.contribution > 0, alt.value("#2e7d32"), alt.value("#c62828")),
            tooltip=["feature", alt.Tooltip("contribution:Q", format="+.3f")],
        )
        .properties(height=140)
    )


def metrics_over_runs(metrics: pd.DataFrame, metric: str) -> alt.Chart:
    rows = metrics[metrics["metric"] == metric].assign(model=lambda f: f["model"].map(MODEL_LABELS))
    return (
        alt.Chart(rows)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonthdate(as_of):O", title="run as of", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)),
            color=alt.Color("model:N", title="model"),
            tooltip=["run_id", "model", alt.Tooltip("value:Q", format=".3f"), "backtests"],
        )
        .properties(height=260)
    )


def calibration(deciles: pd.DataFrame) -> alt.LayerChart:
    """Mean predicted against mean actual revenue per decile of predicted revenue, per model."""
    rows = deciles.assign(model=deciles["model"].map(MODEL_LABELS))
    line = (
        alt.Chart(rows)
        .mark_line(point=True)
        .encode(
            x=alt.X("predicted:Q", title="mean predicted revenue in the decile"),
            y=alt.Y("actual:Q", title="mean actual revenue in the decile"),
            color=alt.Color("model:N", title="model"),
            tooltip=[
                "model",
                "decile",
                alt.Tooltip("predicted:Q", format=",.0f"),
                alt.Tooltip("actual:Q", format=",.0f"),
            ],
        )
    )
    top = float(max(rows["predicted"].max(), rows["actual"].max())) if len(rows) else 1.0
    diagonal = (
        alt.Chart(pd.DataFrame({"predicted": [0.0, top], "actual": [0.0, top]}))
        .mark_line(strokeDash=[4, 4], color="gray")
        .encode(x="predicted:Q", y="actual:Q")
    )
    return (diagonal + line).properties(height=320)
