"""The dashboard in a real browser: Streamlit serving a real publication, driven by Playwright and Chromium.

Every page must render with data and without an exception or error element; an audience's CSV download must
hold exactly the customers a query on the serving file gives; and after a second run is published, the
same browser session must show the new run without restarting the app.

Screenshots (one PNG per page) go to docs/screenshots/ with CLTV_UPDATE_SCREENSHOTS=1, else to a tmp dir.
Chromium is Debian's (`apt-get install -y chromium`), never a `playwright install` download.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cltv.config import PROJECT_ROOT, Settings
from tests.dashboard.conftest import RealPublication

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = {  # screenshot name: (url path, title); the overview is the app's default page, at /
    "overview": ("", "Overview"),
    "segments": ("segments", "Segments"),
    "movement": ("movement", "Tier movement"),
    "customer": ("customer", "Customer lookup"),
    "audiences": ("audiences", "Audiences"),
    "model-quality": ("model-quality", "Model quality"),
}
VIEWPORT = {"width": 1400, "height": 1000}
MAX_SCREENSHOT_HEIGHT = 4000
STARTUP_SECONDS = 180
RENDER_MS = 120_000


def serving(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    """A query on the serving file, independent of the dashboard's own code."""
    with duckdb.connect(str(settings.serving_dir / "cltv.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"streamlit did not serve within {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def streamlit_app(real_publication: RealPublication, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """`streamlit run dashboard/app.py` on a free port, reading the fixture's serving dir; killed after."""
    port = free_port()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    command = [
        *(sys.executable, "-m", "streamlit", "run", "dashboard/app.py"),
        *("--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1"),
        *("--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"),
        *("--client.toolbarMode", "viewer"),
    ]
    env = {**os.environ, **real_publication.settings.to_env(), "DO_NOT_TRACK": "1"}
    with open(log, "w") as output:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, process, log)
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory) -> Path:
    if os.environ.get("CLTV_UPDATE_SCREENSHOTS") == "1":
        target = PROJECT_ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path_factory.mktemp("screenshots")


def wait_for_script(page) -> None:
    """Streamlit marks its app root with the script's state; charts draw after the script finishes."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=RENDER_MS)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
                 .every(chart => chart.querySelector('canvas, svg'))""",
        timeout=RENDER_MS,
    )


def open_page(page, url: str, name: str) -> None:
    path, title = PAGES[name]
    page.goto(f"{url}/{path}")
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=RENDER_MS)
    wait_for_script(page)
    assert_no_error(page)


def assert_no_error(page) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert exceptions.count() == 0, exceptions.all_inner_texts()
    assert errors.count() == 0, errors.all_inner_texts()
    assert "Page not found" not in page.content()


def metric(page, label: str) -> str:
    """The value shown by the st.metric with this exact label."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True)
    )
    return box.locator('[data-testid="stMetricValue"]').first.inner_text().strip()


def table_cells(page) -> list[list[str]]:
    """The text of every cell of the first st.table, row by row, header first.

    Waits for the table: a page can report its script finished while its later elements still arrive."""
    page.locator('[data-testid="stTable"] tr').first.wait_for(timeout=RENDER_MS)
    rows = page.locator('[data-testid="stTable"] tr')
    return [
        [cell.strip() for cell in rows.nth(i).locator("th, td").all_inner_texts()]
        for i in range(rows.count())
    ]


def sidebar_text(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def assert_charts(page, expected: int) -> None:
    """The page shows exactly `expected` charts, all drawn.

    Streamlit adds a chart's element after the script's other output: counting at once can see none, so
    the count is awaited (it still fails when the page keeps showing another number).
    """
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(expected, timeout=RENDER_MS)
    wait_for_script(page)


def save_screenshot(page, directory: Path, name: str) -> Path:
    """The whole page: the viewport grows to the content's height (Streamlit scrolls inside its own div)."""
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height), MAX_SCREENSHOT_HEIGHT)})
    wait_for_script(page)
    page.wait_for_timeout(1500)  # Vega redraws charts at the new size
    path = directory / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)
    return path


# --- expectations from the serving file --------------------------------------------------------------


def publication_row(settings: Settings) -> tuple[str, object]:
    return serving(settings, "select run_id, as_of from gold.publication")[0]


def model_tier_thresholds(settings: Settings, run_id: str) -> list[float]:
    """The tier thresholds the ML stage saved beside its model (not in gold): what the dashboard rebuilds."""
    (artifacts,) = serving(settings, "select artifact_path from gold.model_runs where run_id = ?", [run_id])[
        0
    ]
    return json.loads((Path(artifacts) / "features.json").read_text())["tier_thresholds"]


def check_overview(page, url: str, settings: Settings) -> None:
    run_id, as_of = publication_row(settings)
    open_page(page, url, "overview")
    ((customers, orders),) = serving(
        settings,
        "select count(distinct customer_id), count(distinct invoice_no) filter (where not is_cancellation) "
        "from gold.fct_invoices where invoice_date <= ?",
        [as_of],
    )
    ((predicted,),) = serving(
        settings, "select sum(predicted_revenue) from gold.customer_predictions where as_of_date = ?", [as_of]
    )
    assert metric(page, "Customers") == f"{customers:,}"
    assert metric(page, "Orders") == f"{orders:,}"
    assert metric(page, "Predicted revenue, next 90 days") == f"{predicted:,.0f}"
    assert metric(page, "Run date (as of)") == f"{as_of:%Y-%m-%d}"
    assert f"run {run_id}" in sidebar_text(page)
    assert_charts(page, 1)


def check_segments(page, url: str, settings: Settings) -> None:
    _, as_of = publication_row(settings)
    open_page(page, url, "segments")
    ((dates,),) = serving(
        settings,
        "select count(distinct as_of_date) from gold.rfm_segment_history where as_of_date <= ?",
        [as_of],
    )
    assert page.get_by_text(f"{dates} as_of date(s) in gold.rfm_segment_history").count() == 1
    assert_charts(page, 4)  # customers and revenue by segment, heat map, history


def check_movement(page, url: str, settings: Settings) -> None:
    run_id, as_of = publication_row(settings)
    open_page(page, url, "movement")
    low, high = model_tier_thresholds(settings, run_id)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert f"low up to {low:,.2f}" in text
    assert f"mid up to {high:,.2f}" in text
    ((scored,),) = serving(
        settings, "select count(*) from gold.customer_predictions where as_of_date = ?", [as_of]
    )
    header, *rows = table_cells(page)
    assert header[1:] == ["none", "low", "mid", "high"]
    assert [row[0] for row in rows] == ["none", "low", "mid", "high"]
    assert sum(int(cell) for row in rows for cell in row[1:]) == scored
    assert_charts(page, 3)


def check_customer(page, url: str, settings: Settings) -> None:
    _, as_of = publication_row(settings)
    ((customer_id, segment),) = serving(
        settings,
        """
        select p.customer_id, s.segment from gold.customer_predictions as p
        join gold.rfm_segments as s on s.customer_id = p.customer_id and s.as_of_date = p.as_of_date
        where p.as_of_date = ? order by p.predicted_revenue desc, p.customer_id limit 1
        """,
        [as_of],
    )
    open_page(page, url, "customer")
    assert page.get_by_role("heading", name=f"Customer {customer_id}").count() == 1
    assert metric(page, "Segment") == segment
    assert_charts(page, 2)  # drivers, monthly revenue


def check_audience_download(page, url: str, settings: Settings) -> None:
    run_id, as_of = publication_row(settings)
    open_page(page, url, "audiences")
    page.get_by_role("tab", name="Predicted no purchase").click()
    panel = page.get_by_role("tabpanel").filter(has_text="no purchase expected")
    button = panel.get_by_role("button", name="Download CSV")
    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename == f"predicted_no_purchase_{as_of:%Y%m%d}_{run_id}.csv"
    csv = pd.read_csv(download.path(), dtype={"customer_id": str})
    expected = serving(
        settings,
        "select customer_id from gold.customer_predictions where as_of_date = ? and predicted_tier = 'none' "
        "order by predicted_revenue desc, customer_id",
        [as_of],
    )
    assert len(expected) > 0
    assert csv["customer_id"].tolist() == [customer for (customer,) in expected]
    assert set(csv["predicted_tier"]) == {"none"}
    assert_no_error(page)


def check_model_quality(page, url: str, settings: Settings) -> None:
    run_id, _ = publication_row(settings)
    open_page(page, url, "model-quality")
    ((model_version,),) = serving(
        settings, "select model_version from gold.model_runs where run_id = ?", [run_id]
    )
    verdict = page.locator('[data-testid="stAlertContainer"]').first.inner_text()
    assert run_id in verdict
    assert model_version in verdict
    assert_charts(page, 2)  # metrics over runs, calibration


def check_every_page(page, url: str, settings: Settings) -> None:
    check_overview(page, url, settings)
    check_segments(page, url, settings)
    check_movement(page, url, settings)
    check_customer(page, url, settings)
    check_audience_download(page, url, settings)
    check_model_quality(page, url, settings)


def test_every_page_renders_downloads_match_and_a_new_publication_shows_without_restart(
    real_publication: RealPublication, streamlit_app: tuple[str, Path], page, screenshot_dir: Path
):
    url, log = streamlit_app
    settings = real_publication.settings
    assert publication_row(settings)[0] == real_publication.first_run

    check_every_page(page, url, settings)

    # A second run is published while the app runs; the same session sees it on its next read.
    open_page(page, url, "overview")
    assert f"run {real_publication.first_run}" in sidebar_text(page)
    real_publication.publish_second()
    page.get_by_role("button", name="Check for a new publication").click()
    page.locator('[data-testid="stSidebar"]').get_by_text(real_publication.second_run, exact=True).wait_for(
        timeout=RENDER_MS
    )
    wait_for_script(page)
    assert f"run {real_publication.second_run}" in sidebar_text(page)
    assert publication_row(settings)[0] == real_publication.second_run

    check_every_page(page, url, settings)
    for name in PAGES:
        open_page(page, url, name)
        shot = save_screenshot(page, screenshot_dir, name)
        assert shot.stat().st_size > 20_000  # a page with data, not a blank frame
    assert "Traceback" not in log.read_text()
