"""Airflow fixtures: the project's DagBag, and a migrated SQLite metadata DB for whole-DAG runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cltv.airflow_env import DAGS_FOLDER, WAREHOUSE_POOL

AIRFLOW = str(Path(sys.executable).parent / "airflow")


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Migrate the session's SQLite metadata DB and create the writer pool, as `make run` does."""
    subprocess.run([AIRFLOW, "db", "migrate"], check=True, capture_output=True)
    subprocess.run([AIRFLOW, "pools", "set", WAREHOUSE_POOL, "1", "test"], check=True, capture_output=True)


def load_dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))
