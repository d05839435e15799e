"""The environment Airflow runs cltv's DAGs in, for `make run`, `make airflow` and the tests alike.

One place decides where Airflow's home and metadata live, which DAG folder it reads, and that no
component phones home (telemetry calls stall on a machine without internet).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cltv.config import PROJECT_ROOT, resolve_path

DAGS_FOLDER = PROJECT_ROOT / "dags"
DEFAULT_AIRFLOW_HOME = ".airflow"
WAREHOUSE_POOL = "cltv_warehouse"

QUIET_TELEMETRY = {
    "DO_NOT_TRACK": "1",
    "SODA_CORE_TELEMETRY_ENABLED": "false",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "SCARF_ANALYTICS": "false",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
}


def airflow_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return resolve_path(env.get("AIRFLOW_HOME") or DEFAULT_AIRFLOW_HOME)


def airflow_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment plus Airflow settings for a local, SQLite-backed cltv Airflow."""
    env = dict(os.environ if env is None else env)
    home = airflow_home(env)
    defaults = {
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
    }
    return {**defaults, **env, "AIRFLOW_HOME": str(home), **QUIET_TELEMETRY}
