"""Shared fixtures: an isolated warehouse per test, and the real data sets when they are present."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from cltv.airflow_env import airflow_environment
from cltv.config import PROJECT_ROOT, Settings

REAL_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"
ONLINE_RETAIL = REAL_DATA_DIR / "online_retail.parquet"
ONLINE_RETAIL_II = REAL_DATA_DIR / "online_retail_ii_2009_2010.parquet"

# Before anything imports Airflow: a throw-away Airflow home (SQLite metadata) for this test session, the
# project's DAG folder, and no telemetry (it calls the network and stalls here).
AIRFLOW_TEST_HOME = Path(tempfile.mkdtemp(prefix="cltv-airflow-test-"))
atexit.register(shutil.rmtree, AIRFLOW_TEST_HOME, ignore_errors=True)
os.environ.update(airflow_environment({**os.environ, "AIRFLOW_HOME": str(AIRFLOW_TEST_HOME)}))


def settings_in(root: Path) -> Settings:
    """Settings whose warehouse, landing, serving and models folders live under `root`."""
    return Settings.from_env(
        {
            "CLTV_WAREHOUSE": str(root / "warehouse" / "cltv.duckdb"),
            "CLTV_LANDING_DIR": str(root / "landing"),
            "CLTV_SERVING_DIR": str(root / "warehouse" / "serving"),
            "CLTV_MODELS_DIR": str(root / "warehouse" / "models"),
            "CLTV_DUCKDB_MEMORY_LIMIT": "2GB",
        }
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose warehouse, landing, serving and models folders live in this test's tmp dir."""
    return settings_in(tmp_path)


@pytest.fixture(scope="session")
def real_data() -> dict[str, Path]:
    """Both UCI files; skip (loudly) where they are absent. They are present in CI."""
    missing = [p for p in (ONLINE_RETAIL, ONLINE_RETAIL_II) if not p.exists()]
    if missing:
        pytest.skip(f"real data not found: {missing}")
    return {"online_retail": ONLINE_RETAIL, "online_retail_ii": ONLINE_RETAIL_II}
