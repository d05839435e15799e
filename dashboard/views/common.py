"""What every page shares: one read of the serving file, the run it shows, and number formats."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import duckdb
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.data import PublicationInfo

T = TypeVar("T")
NONE = "-"  # shown where a figure does not exist


def read_page(
    loader: Callable[[duckdb.DuckDBPyConnection, PublicationInfo], T],
) -> tuple[PublicationInfo, T]:
    """The publication and the page's data from one connection (so from one run), closed straight after.

    Nothing is cached across reruns: every interaction reads the file again, so a new publication shows
    up on the next click or reload, without restarting the app.
    """
    try:
        return data.read(lambda con: _with_publication(con, loader))
    except FileNotFoundError as error:
        st.error(str(error))
        st.stop()
        raise  # st.stop() raises; this keeps type checkers and readers sure nothing follows


def _with_publication(
    con: duckdb.DuckDBPyConnection, loader: Callable[[duckdb.DuckDBPyConnection, PublicationInfo], T]
) -> tuple[PublicationInfo, T]:
    pub = data.publication(con)
    return pub, loader(con, pub)


def show_run(pub: PublicationInfo) -> None:
    """Which run this page shows, in the sidebar and under the title; a button to look for a newer one."""
    with st.sidebar:
        st.markdown("#### Publication shown")
        st.markdown(
            f"run **`{pub.run_id}`**  \n"
            f"as of **{pub.as_of:%Y-%m-%d}**  \n"
            f"published {pub.published_at:%Y-%m-%d %H:%M} UTC  \n"
            f"latest invoice {pub.latest_invoice_date or 'none'}"
        )
        st.caption(f"publication `{pub.publication_id}`")
        if st.button("Check for a new publication", key="refresh"):
            st.rerun()
    st.caption(
        f"Run `{pub.run_id}` · as of {pub.as_of:%Y-%m-%d} · "
        f"published {pub.published_at:%Y-%m-%d %H:%M} UTC · "
        + (f"next period = {pub.horizon_days} days" if pub.horizon_days else "no predictions published")
    )


def date_columns(frame: pd.DataFrame) -> dict[str, object]:
    """Dates shown as dates: DuckDB's DATE arrives in pandas as a timestamp at midnight."""
    return {
        name: st.column_config.DateColumn(name, format="YYYY-MM-DD")
        for name in frame.columns
        if pd.api.types.is_datetime64_any_dtype(frame[name])
    }


def table(frame: pd.DataFrame, **options: object) -> None:
    """A dataframe without its index, full width, dates as dates."""
    st.dataframe(frame, hide_index=True, width="stretch", column_config=date_columns(frame), **options)


def money(value: float | None) -> str:
    return NONE if value is None else f"{value:,.0f}"


def count(value: float | None) -> str:
    return NONE if value is None else f"{value:,.0f}"
