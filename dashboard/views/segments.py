"""Segments: RFM segments and value tiers at as_of, the recency x frequency grid, and their history."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data
from dashboard.views.common import read_page, show_run

HEAT_MAP_MEASURES = {"customers": "customers", "mean monetary value": "mean_monetary"}


def render() -> None:
    pub, segments = read_page(data.segments)
    st.title("Segments")
    show_run(pub)
    st.markdown(
        "RFM segments score each customer 1-5 on recency, frequency and monetary value at the run's as_of; "
        "the value tier (Low, Mid, High) comes from the monetary score."
    )
    left, right = st.columns(2)
    with left:
        st.subheader("Customers by segment")
        st.altair_chart(
            charts.by_segment(segments.by_segment_tier, "customers", "customers"), width="stretch"
        )
    with right:
        st.subheader("Revenue by segment")
        st.altair_chart(
            charts.by_segment(segments.by_segment_tier, "revenue", "lifetime net revenue"), width="stretch"
        )
    left, right = st.columns(2)
    with left:
        st.subheader("RFM heat map")
        label = st.radio("Cell value", list(HEAT_MAP_MEASURES), horizontal=True, key="heat_map_measure")
        measure = HEAT_MAP_MEASURES[label]
        st.altair_chart(charts.rfm_heat_map(segments.heat_map, measure, label), width="stretch")
    with right:
        st.subheader("Segment and tier table")
        table = segments.by_segment_tier.pivot_table(
            index="segment", columns="value_tier", values="customers", aggfunc="sum", fill_value=0
        )
        table = table.reindex(columns=[c for c in charts.VALUE_TIERS if c in table.columns])
        table["total"] = table.sum(axis=1)
        st.dataframe(table.sort_values("total", ascending=False), width="stretch")
    st.subheader("Segment history over runs")
    dates = segments.history["as_of_date"].nunique()
    st.caption(f"{dates} as_of date(s) in gold.rfm_segment_history up to this run.")
    st.altair_chart(charts.segment_history(segments.history), width="stretch")
