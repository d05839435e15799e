"""The DAGs import with the environment docker-compose.yml gives the dag-processor, secrets included.

The compose environment is translated to this machine: the image's paths to the repository and to tmp
folders, the secrets volume to a folder that deploy/secrets_init.py fills, and only the metadata DB
to SQLite (the PostgreSQL driver is an image-only dependency). The import runs in a fresh interpreter,
as the dag-processor would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cltv.airflow_env import WAREHOUSE_POOL
from cltv.config import PROJECT_ROOT
from tests.deploy.conftest import (
    IMAGE_ROOT,
    deploy_module,
    env_file_values,
    load_compose,
    service_environment,
)

IMPORT_DAGS = """
import json
from airflow.configuration import conf
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=conf.get("core", "dags_folder"))
dag = bag.dags.get("cltv_pipeline")
print(json.dumps({
    "errors": {path: str(error) for path, error in bag.import_errors.items()},
    "dags": sorted(bag.dags),
    "schedule": str(dag.schedule) if dag else None,
    "pools": sorted({task.pool for task in dag.tasks}) if dag else [],
    "fernet_key": conf.get("core", "fernet_key"),
    "executor": conf.get("core", "executor"),
}))
"""


def container_to_local(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The image's paths replaced by their counterparts on this machine."""
    places = {
        "/run/cltv-secrets": str(tmp_path / "secrets"),
        IMAGE_ROOT: str(PROJECT_ROOT),
        "/opt/airflow": str(tmp_path / "airflow"),
        "/data": str(tmp_path / "data"),
    }
    translated = {}
    for key, value in env.items():
        for container, local in places.items():
            value = value.replace(container, local)
        translated[key] = value
    return translated


def import_dags(env: dict[str, str], tmp_path: Path) -> dict:
    secrets = tmp_path / "secrets"
    deploy_module("secrets_init").init_secrets(secrets, {})
    conn = secrets / "sql_alchemy_conn"
    conn.chmod(0o600)
    conn.write_text(f"sqlite:///{tmp_path / 'airflow.db'}")
    process_env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(PROJECT_ROOT),
        **container_to_local(env, tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_DAGS], env=process_env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_dag_processor_imports_the_dags_with_the_compose_settings(tmp_path: Path):
    env = service_environment(load_compose()["services"]["airflow-dag-processor"])

    parsed = import_dags(env, tmp_path)

    assert parsed["errors"] == {}
    assert parsed["dags"] == ["cltv_pipeline"]
    assert parsed["schedule"] == "0 3 1 * *"  # CLTV_SCHEDULE=monthly from .env.example
    assert parsed["pools"] == sorted({"default_pool", WAREHOUSE_POOL})
    assert parsed["executor"] == "LocalExecutor"
    assert parsed["fernet_key"] == (tmp_path / "secrets" / "fernet_key").read_text()  # read through *_CMD


def test_a_quarterly_schedule_set_in_env_reaches_the_dag(tmp_path: Path):
    compose = load_compose({**env_file_values(), "CLTV_SCHEDULE": "quarterly"})
    env = service_environment(compose["services"]["airflow-dag-processor"])

    parsed = import_dags(env, tmp_path)

    assert parsed["errors"] == {}
    assert parsed["schedule"] == "0 3 1 1,4,7,10 *"
