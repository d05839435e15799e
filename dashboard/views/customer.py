"""Customer lookup: one customer's profile, segment, features, prediction with its drivers, and history."""

from __future__ import annotations

import duckdb
import pandas as pd
import streamlit as st

from dashboard import charts, data
from dashboard.data import CustomerCard, PublicationInfo
from dashboard.views.common import NONE, money, read_page, show_run, table

KEY = "customer_id"
METRIC_COLUMNS = [1.6, 1, 1, 1]  # the segment name is the longest value


def load(con: duckdb.DuckDBPyConnection, pub: PublicationInfo) -> tuple[pd.DataFrame, CustomerCard | None]:
    """The top customers, and the card of the one asked for (by default the top one)."""
    top = data.top_customers(con, pub)
    wanted = (st.session_state.get(KEY) or "").strip() or (top["customer_id"].iloc[0] if len(top) else "")
    return top, data.customer_card(con, pub, wanted) if wanted else None


def render() -> None:
    pub, (top, card) = read_page(load)
    st.title("Customer lookup")
    show_run(pub)
    default = card.customer_id if card else ""
    st.text_input("Customer id", value=default, key=KEY, help="Defaults to the highest predicted revenue")
    if card is None or card.profile.empty:
        st.info(f"No customer `{st.session_state.get(KEY, '')}` in this publication.")
    else:
        show_card(card, pub)
    with st.expander("Highest predicted revenue at this run"):
        table(top)


def show_card(card: CustomerCard, pub: PublicationInfo) -> None:
    profile = card.profile.iloc[0]
    segment = card.segment.iloc[0] if len(card.segment) else None
    prediction = card.prediction.iloc[0] if len(card.prediction) else None
    st.subheader(f"Customer {card.customer_id} · {profile['country']}")
    first, second, third, fourth = st.columns(METRIC_COLUMNS)
    first.metric("Segment", segment["segment"] if segment is not None else NONE)
    second.metric("Value tier", segment["value_tier"] if segment is not None else NONE)
    third.metric("Lifetime net revenue", money(float(profile["lifetime_net_revenue"])))
    fourth.metric("Lifetime orders", f"{int(profile['lifetime_orders']):,}")
    if prediction is None:
        st.info("This customer was not scored at this run's as_of.")
    else:
        horizon = int(prediction["horizon_days"])
        first, second, third, fourth = st.columns(METRIC_COLUMNS)
        first.metric(f"Predicted revenue, next {horizon} days", money(prediction["predicted_revenue"]))
        second.metric("Predicted tier", prediction["predicted_tier"] or NONE)
        third.metric(
            "P(purchase)", NONE if pd.isna(prediction["p_purchase"]) else f"{prediction['p_purchase']:.0%}"
        )
        fourth.metric("P(alive), BG/NBD", f"{prediction['bgnbd_p_alive']:.0%}")
        st.markdown(
            f"Baselines: BG/NBD + Gamma-Gamma **{money(prediction['bgnbd_clv'])}**, "
            f"naive (last period) **{money(prediction['naive_revenue'])}** · "
            f"model `{prediction['model_version']}`"
        )
        if len(card.drivers):
            st.markdown("**Top drivers of the prediction**")
            st.altair_chart(charts.drivers(card.drivers), width="stretch")
    left, right = st.columns(2)
    with left:
        st.markdown("**Net revenue by month**")
        st.altair_chart(charts.customer_monthly_revenue(card.monthly_revenue), width="stretch")
    with right:
        st.markdown(f"**Features at {pub.as_of:%Y-%m-%d}**")
        features = card.features.drop(columns=["cutoff_date"], errors="ignore")
        if len(features):
            st.dataframe(features.T.rename(columns={0: "value"}).astype(str), width="stretch", height=260)
    st.markdown("**Segment history**")
    table(card.segment_history)
    st.markdown("**Predictions over runs**")
    table(card.prediction_history)
