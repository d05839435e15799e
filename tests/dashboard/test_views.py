"""Every page run by Streamlit's own test runner on the tiny shop: no exception, and the figures expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cltv.config import PROJECT_ROOT, Settings
from tests.dashboard.conftest import RUN_ID

TIMEOUT = 60


@pytest.fixture
def serving_env(tiny_publication: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CLTV_SERVING_DIR", str(tiny_publication.serving_dir))
    return tiny_publication


def run_page(module: str) -> AppTest:
    app = AppTest.from_string(
        f"from dashboard.views import {module}\n{module}.render()", default_timeout=TIMEOUT
    )
    app.run()
    assert [e.value for e in app.exception] == []
    assert [e.value for e in app.error] == []
    return app


def metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def test_the_app_opens_on_the_overview(serving_env: Settings):
    app = AppTest.from_file(str(PROJECT_ROOT / "dashboard" / "app.py"), default_timeout=TIMEOUT).run()
    assert [e.value for e in app.exception] == []
    assert app.title[0].value == "Overview"


def test_overview_shows_the_run_and_its_figures(serving_env: Settings):
    app = run_page("overview")
    shown = metrics(app)
    assert shown["Customers"] == "7"
    assert shown["Orders"] == "8"
    assert shown["Predicted revenue, next 90 days"] == "1,920"
    assert shown["Run date (as of)"] == "2024-12-31"
    assert any(RUN_ID in caption.value for caption in app.caption)
    assert any(RUN_ID in markdown.value for markdown in app.sidebar.markdown)


def test_segments_and_model_quality_render(serving_env: Settings):
    segments = run_page("segments")
    assert any("2 as_of date(s)" in caption.value for caption in segments.caption)
    quality = run_page("model_quality")
    assert "beat both baselines" in quality.success[0].value


def test_movement_shows_the_thresholds_and_the_matrix(serving_env: Settings):
    app = run_page("movement")
    assert "**low** up to 200.00" in app.markdown[0].value
    assert app.table[0].value.to_numpy().tolist() == [[1, 0, 0, 1], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]]


def test_customer_lookup_starts_on_the_top_customer_and_finds_another(serving_env: Settings):
    app = run_page("customer")
    assert app.subheader[0].value == "Customer A · United Kingdom"
    assert metrics(app)["Segment"] == "Champions"
    app.text_input(key="customer_id").input("B").run()
    assert app.subheader[0].value == "Customer B · United Kingdom"
    assert metrics(app)["Predicted tier"] == "low"
    app.text_input(key="customer_id").input("nobody").run()
    assert "No customer `nobody`" in app.info[0].value


def test_audiences_count_their_customers_and_follow_their_parameters(serving_env: Settings):
    app = run_page("audiences")
    sizes = [metric.value for metric in app.metric if metric.label == "Customers"]
    assert sizes == ["2", "2", "2", "2", "7"]  # likely >= 500, drop, no purchase, high value at risk, all
    app.number_input(key="likely_min").set_value(700.0).run()
    app.multiselect(key="b_segments").set_value(["Loyal Customers"]).run()
    sizes = [metric.value for metric in app.metric if metric.label == "Customers"]
    assert sizes == ["1", "2", "2", "2", "2"]


def test_without_a_publication_the_page_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLTV_SERVING_DIR", str(tmp_path / "nothing"))
    app = AppTest.from_string("from dashboard.views import overview\noverview.render()").run()
    assert "nothing published yet" in app.error[0].value
    assert [e.value for e in app.exception] == []
