"""Audiences: customer lists for campaigns, each with a CSV download.

The page reads the file once: the widgets' values are taken from the session state (or their defaults)
before the read, so every list on the page comes from the same publication.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
import streamlit as st

from dashboard import audiences
from dashboard.audiences import AudienceFilter
from dashboard.data import PublicationInfo
from dashboard.tiers import TIERS
from dashboard.views.common import money, read_page, show_run

VALUE_TIERS = ("Low", "Mid", "High")
AUDIENCE_COLUMN_CONFIG = {
    "customer_id": st.column_config.TextColumn("customer"),
    "value_tier": st.column_config.TextColumn("value tier"),
    "current_tier": st.column_config.TextColumn("current tier"),
    "predicted_tier": st.column_config.TextColumn("predicted tier"),
    "last_period_revenue": st.column_config.NumberColumn("last period", format="%.2f"),
    "predicted_revenue": st.column_config.NumberColumn("predicted", format="%.2f"),
    "p_purchase": st.column_config.ProgressColumn(
        "P(purchase)", format="percent", min_value=0.0, max_value=1.0
    ),
    "bgnbd_p_alive": st.column_config.NumberColumn("P(alive)", format="percent"),
    "top_drivers": st.column_config.TextColumn("top drivers", width="large"),
}
DEFAULTS: dict[str, object] = {
    "likely_min": 500.0,
    "drop_share": 0.30,
    "b_segments": [],
    "b_value_tiers": [],
    "b_current": [],
    "b_predicted": [],
    "b_min_rev": 0.0,
    "b_min_p": 0.0,
}


@dataclass(frozen=True)
class Audience:
    name: str  # file name stem
    tab: str
    description: str
    spec: AudienceFilter


def state(key: str) -> object:
    return st.session_state.get(key, DEFAULTS[key])


def current_audiences() -> list[Audience]:
    """The named audiences and the builder's, with the parameters the user has set."""
    minimum, share = float(state("likely_min")), float(state("drop_share"))
    builder = AudienceFilter(
        segments=tuple(state("b_segments")),
        value_tiers=tuple(state("b_value_tiers")),
        current_tiers=tuple(state("b_current")),
        predicted_tiers=tuple(state("b_predicted")),
        min_predicted_revenue=float(state("b_min_rev")) or None,
        min_p_purchase=float(state("b_min_p")) or None,
    )
    return [
        Audience(
            "likely_to_spend",
            "Likely to spend",
            f"Customers whose predicted revenue for the next period is at least {minimum:,.0f}.",
            audiences.likely_to_spend(minimum),
        ),
        Audience(
            "spending_drop",
            "Spending drop",
            f"Customers who bought last period and are predicted to spend at least {share:.0%} less "
            "next period.",
            audiences.spending_drop(share),
        ),
        Audience(
            "predicted_no_purchase",
            "Predicted no purchase",
            "Customers whose most likely tier for the next period is *none*: no purchase expected.",
            audiences.predicted_no_purchase(),
        ),
        Audience(
            "high_value_at_risk",
            "High value at risk",
            "RFM value tier *High*, and the model expects little or nothing next period (tier none or low).",
            audiences.high_value_at_risk(),
        ),
        Audience("custom_audience", "Builder", "All the chosen conditions hold.", builder),
    ]


def load(
    con: duckdb.DuckDBPyConnection, pub: PublicationInfo, wanted: list[Audience]
) -> tuple[list[str], list[pd.DataFrame]]:
    rows = con.execute(
        "select distinct segment from gold.rfm_segments where as_of_date = ? order by 1", [pub.as_of]
    ).fetchall()
    return [segment for (segment,) in rows], [audiences.audience(con, pub.as_of, a.spec) for a in wanted]


def render() -> None:
    wanted = current_audiences()
    pub, (segment_names, lists) = read_page(lambda con, pub: load(con, pub, wanted))
    st.title("Audiences")
    show_run(pub)
    st.caption(
        "Current tier: the tier of the customer's revenue in the last period (see Tier movement). "
        "Lists are sorted by predicted revenue, highest first."
    )
    tabs = st.tabs([a.tab for a in wanted])
    for tab, audience, customers in zip(tabs, wanted, lists, strict=True):
        with tab:
            parameters(audience.name, segment_names)
            st.markdown(audience.description)
            summary(customers)
            download(audience.name, pub, customers)
            st.dataframe(
                customers, hide_index=True, width="stretch", height=320, column_config=AUDIENCE_COLUMN_CONFIG
            )


def parameters(name: str, segment_names: list[str]) -> None:
    """The widgets of one audience; their values are read by `current_audiences` on the next run."""
    if name == "likely_to_spend":
        st.number_input(
            "Spend at least", min_value=0.0, value=DEFAULTS["likely_min"], step=50.0, key="likely_min"
        )
    elif name == "spending_drop":
        st.slider(
            "At least this much less than last period",
            0.05,
            0.95,
            DEFAULTS["drop_share"],
            0.05,
            key="drop_share",
        )
    elif name == "custom_audience":
        left, middle, right = st.columns(3)
        left.multiselect("RFM segments", segment_names, key="b_segments")
        left.multiselect("RFM value tiers", VALUE_TIERS, key="b_value_tiers")
        middle.multiselect("Current tier (last period)", TIERS, key="b_current")
        middle.multiselect("Predicted tier (next period)", TIERS, key="b_predicted")
        right.number_input("Predicted revenue at least", min_value=0.0, value=0.0, step=50.0, key="b_min_rev")
        right.slider("P(purchase) at least", 0.0, 1.0, 0.0, 0.05, key="b_min_p")


def summary(customers: pd.DataFrame) -> None:
    first, second, third = st.columns(3)
    first.metric("Customers", f"{len(customers):,}")
    second.metric("Predicted revenue, next period", money(float(customers["predicted_revenue"].sum())))
    third.metric("Revenue, last period", money(float(customers["last_period_revenue"].sum())))


def download(name: str, pub: PublicationInfo, customers: pd.DataFrame) -> None:
    st.download_button(
        f"Download CSV ({len(customers):,} customers)",
        data=audiences.to_csv(customers),
        file_name=f"{name}_{pub.as_of:%Y%m%d}_{pub.run_id}.csv",
        mime="text/csv",
        key=f"download_{name}",
        on_click="ignore",
        type="primary",
    )
