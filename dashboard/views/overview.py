"""Overview: the run's headline figures, what the model expects next, and how fresh the data is."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data
from dashboard.views.common import count, money, read_page, show_run


def render() -> None:
    pub, figures = read_page(data.overview)
    st.title("Overview")
    show_run(pub)
    horizon = pub.horizon_days or 90
    first, second, third, fourth = st.columns(4)
    first.metric("Customers", count(figures.customers), help="Customers with an invoice up to as_of")
    second.metric("Revenue", money(figures.revenue), help="Net revenue of every invoice up to as_of")
    third.metric("Orders", count(figures.orders), help="Invoices that are not cancellations")
    fourth.metric(
        f"Predicted revenue, next {horizon} days",
        money(figures.predicted_revenue),
        help="Sum of gold.customer_predictions.predicted_revenue at as_of",
    )
    first, second, third, fourth = st.columns(4)
    first.metric(f"Active in the last {horizon} days", count(figures.active_customers))
    second.metric(f"Revenue, last {horizon} days", money(figures.last_period_revenue))
    third.metric(f"Expected buyers, next {horizon} days", count(figures.expected_buyers))
    fourth.metric("Run date (as of)", f"{pub.as_of:%Y-%m-%d}")
    if pub.latest_invoice_date is not None:
        lag = (pub.as_of - pub.latest_invoice_date).days
        message = f"Data is fresh to **{pub.latest_invoice_date:%Y-%m-%d}**, the latest invoice date"
        message += " (the run's as_of)." if lag == 0 else f", {lag} days before the run's as_of."
        (st.success if lag <= 7 else st.warning)(message)
    st.subheader("Net revenue by month")
    st.altair_chart(charts.monthly_revenue(figures.monthly), width="stretch")
