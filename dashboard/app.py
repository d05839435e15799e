"""cltv dashboard for marketers: `streamlit run dashboard/app.py` (or `make dashboard`).

Reads only the published serving file, `$CLTV_SERVING_DIR/cltv.duckdb` (default warehouse/serving), opening
it read-only for each page and closing it straight after, so a new publication shows without a restart.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts this file's folder on sys.path, not the project root that holds the package.
PROJECT_ROOT = str(Path(__file__).resolve().parents[1])
if PROJECT_ROOT not in sys.path:
    sys.path.insert(0, PROJECT_ROOT)

import streamlit as st  # noqa: E402

from dashboard.views import audiences, customer, model_quality, movement, overview, segments  # noqa: E402

PAGES = [
    st.Page(
        overview.render, title="Overview", icon=":material/dashboard:", url_path="overview", default=True
    ),
    st.Page(segments.render, title="Segments", icon=":material/donut_small:", url_path="segments"),
    st.Page(movement.render, title="Tier movement", icon=":material/swap_vert:", url_path="movement"),
    st.Page(customer.render, title="Customer lookup", icon=":material/person_search:", url_path="customer"),
    st.Page(audiences.render, title="Audiences", icon=":material/groups:", url_path="audiences"),
    st.Page(
        model_quality.render, title="Model quality", icon=":material/monitoring:", url_path="model-quality"
    ),
]


def main() -> None:
    st.set_page_config(
        page_title="cltv · customer lifetime value", page_icon=":material/insights:", layout="wide"
    )
    st.navigation(PAGES).run()


main()
