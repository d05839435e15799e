"""Movement: where customers are predicted to go, from their current tier to next period's tier."""

from __future__ import annotations

import streamlit as st

from dashboard import charts
from dashboard.movement import movement
from dashboard.views.common import read_page, show_run


def render() -> None:
    pub, moves = read_page(lambda con, pub: movement(con, pub.as_of))
    st.title("Tier movement")
    show_run(pub)
    horizon = moves.horizon_days
    if moves.thresholds is None:
        st.info("This run has no tier thresholds (no labelled buyers in training): tiers cannot be compared.")
        return
    low, high = moves.thresholds
    st.markdown(
        f"**Current tier**: the tier of the customer's net revenue in the last {horizon} days up to as_of "
        f"(floored at 0), with the thresholds of this run's tier model. **Predicted tier**: the model's most "
        f"likely tier for the next {horizon} days. Tiers: **none** no revenue · **low** up to {low:,.2f} · "
        f"**mid** up to {high:,.2f} · **high** above {high:,.2f} (tertiles of the buyers' revenue in the "
        "training windows)."
    )
    left, right = st.columns(2)
    with left:
        st.subheader("Customers")
        st.altair_chart(charts.transition_matrix(moves.counts, ",.0f"), width="stretch")
    with right:
        st.subheader("Share of the current tier")
        st.altair_chart(charts.transition_matrix(moves.shares, ".0%"), width="stretch")
    st.subheader("Transition counts")
    st.table(moves.counts)
    st.subheader("Revenue by tier: last period against predicted next period")
    st.altair_chart(charts.revenue_by_tier(moves.revenue), width="stretch")
