"""docker-compose.yml agrees with the code: executors, paths and volumes, settings, pool, secrets, health."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import PurePosixPath
from typing import Any

import pytest

from cltv.airflow_env import QUIET_TELEMETRY, WAREHOUSE_POOL
from cltv.config import DEFAULTS, PROJECT_ROOT
from tests.deploy.conftest import (
    COMPOSE_FILE,
    DEPLOY_DIR,
    ENV_EXAMPLE,
    IMAGE_ROOT,
    commented_keys,
    deploy_module,
    env_file_values,
    load_compose,
    referenced_variables,
    service_environment,
    volume_mounts,
)

AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"}
TASK_RUNNERS = {"airflow-scheduler", "airflow-worker"}  # LocalExecutor runs tasks in the scheduler
ONE_SHOT = {"cltv-prepare", "airflow-init"}
PATH_SETTINGS = {"CLTV_WAREHOUSE", "CLTV_LANDING_DIR", "CLTV_SERVING_DIR", "CLTV_MODELS_DIR"}
SOURCE_FOLDERS = ("cltv", "ml", "dags", "dashboard")


def settings_the_code_reads() -> set[str]:
    """Every CLTV_* name in the code that runs in the containers (cltv.config's and any read elsewhere)."""
    names = set(DEFAULTS)
    for folder in SOURCE_FOLDERS:
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r"\bCLTV_[A-Z][A-Z_]*[A-Z]\b", path.read_text()))
    return names


def in_profile(service: dict[str, Any], profile: str) -> bool:
    return profile in (service.get("profiles") or [])


def test_the_stack_has_every_airflow_3_component_a_database_and_the_dashboard(services):
    assert AIRFLOW_SERVICES | ONE_SHOT | {"postgres", "dashboard"} <= set(services)
    default_services = {name for name, service in services.items() if not service.get("profiles")}
    assert {"redis", "airflow-worker"}.isdisjoint(default_services)


def test_local_executor_by_default_and_celery_in_its_profile(services):
    for name in AIRFLOW_SERVICES:
        assert service_environment(services[name])["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
    assert in_profile(services["redis"], "celery")
    assert in_profile(services["airflow-worker"], "celery")
    assert services["airflow-worker"]["command"] == ["airflow", "celery", "worker"]
    broker = service_environment(services["airflow-worker"])["AIRFLOW__CELERY__BROKER_URL"]
    assert broker.startswith("redis://redis:")
    # The profile is switched on with the executor, from .env, as .env.example documents.
    assert {"COMPOSE_PROFILES", "CLTV_EXECUTOR"} <= commented_keys()
    assert "COMPOSE_PROFILES=celery" in ENV_EXAMPLE.read_text()
    assert "CLTV_EXECUTOR=CeleryExecutor" in ENV_EXAMPLE.read_text()


def test_celery_executor_reaches_every_airflow_service_when_chosen():
    services = load_compose({**env_file_values(), "CLTV_EXECUTOR": "CeleryExecutor"})["services"]
    for name in AIRFLOW_SERVICES | {"airflow-worker"}:
        assert service_environment(services[name])["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name


def test_tasks_reach_the_api_server_by_its_service_name_and_port(services):
    api = services["airflow-apiserver"]
    port = api["command"][api["command"].index("--port") + 1]
    assert api["ports"][0].endswith(f":{port}")
    for name in AIRFLOW_SERVICES | {"airflow-worker"}:
        url = service_environment(services[name])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
        assert url == f"http://airflow-apiserver:{port}/execution/", name


def test_every_long_running_service_has_a_health_check_and_restarts(services):
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        assert service["healthcheck"]["test"], name
        assert service["restart"] == "unless-stopped", name


def test_airflow_services_wait_for_the_database_and_the_init(services):
    for name in AIRFLOW_SERVICES | {"airflow-worker"}:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["airflow-init"]["condition"] == "service_completed_successfully", name
        assert depends_on["redis"]["required"] is False, name
    assert services["postgres"]["depends_on"]["cltv-prepare"]["condition"] == "service_completed_successfully"


def test_every_path_setting_lies_in_a_volume_of_each_task_runner(services):
    for name in TASK_RUNNERS:
        env = service_environment(services[name])
        mounts = {target: read_only for _, target, read_only in volume_mounts(services[name])}
        for setting in PATH_SETTINGS:
            path = PurePosixPath(env[setting])
            folder = path if setting != "CLTV_WAREHOUSE" else path.parent
            assert str(folder) in mounts, f"{name}: {setting}={path} is not on a volume"
            assert mounts[str(folder)] is (setting == "CLTV_LANDING_DIR"), f"{name}: {setting} read-only?"


def test_the_dashboard_reads_only_the_serving_folder_read_only(services):
    dashboard = services["dashboard"]
    assert dashboard["command"][:3] == ["streamlit", "run", "dashboard/app.py"]
    assert (PROJECT_ROOT / "dashboard" / "app.py").exists()
    cltv_settings = {k: v for k, v in service_environment(dashboard).items() if k.startswith("CLTV_")}
    assert cltv_settings == {"CLTV_SERVING_DIR": "/data/serving"}
    assert volume_mounts(dashboard) == [("cltv-serving", "/data/serving", True)]
    scheduler_serving = [m for m in volume_mounts(services["airflow-scheduler"]) if m[1] == "/data/serving"]
    assert scheduler_serving[0][0] == "cltv-serving"  # the same volume the pipeline publishes to


def test_every_setting_the_code_reads_is_passed_to_the_tasks_and_documented(services):
    env = service_environment(services["airflow-scheduler"])
    documented = env_file_values()
    for name in settings_the_code_reads():
        assert name in env, f"{name} is not set in the scheduler's environment"
        if name in PATH_SETTINGS:
            assert f"{name}={env[name]}" in ENV_EXAMPLE.read_text(), (
                f"{name}'s container path is undocumented"
            )
        else:
            assert name in documented, f"{name} is missing from .env.example"
            assert env[name] == documented[name], f"{name}: compose and .env.example disagree"


def test_env_example_and_compose_name_the_same_variables():
    used = referenced_variables(COMPOSE_FILE.read_text())
    documented = set(env_file_values()) | commented_keys()
    assert used - documented == set(), "variables used by docker-compose.yml but not in .env.example"
    assert documented - used - {"COMPOSE_PROFILES"} == set(), ".env.example lists unused variables"


def test_defaults_in_compose_equal_the_documented_values():
    """Without a .env the stack behaves as .env.example describes."""
    assert load_compose({}) == load_compose(env_file_values())


def test_telemetry_is_off_in_every_airflow_service(services):
    for name in AIRFLOW_SERVICES | ONE_SHOT - {"cltv-prepare"} | {"airflow-worker"}:
        env = service_environment(services[name])
        for key, value in QUIET_TELEMETRY.items():
            assert env[key] == value, f"{name}: {key}"


def test_a_production_auth_manager_and_no_secret_in_the_compose_file(services):
    for name in AIRFLOW_SERVICES:
        env = service_environment(services[name])
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("fab_auth_manager.FabAuthManager")
        assert env["AIRFLOW__FAB__CONFIG_FILE"] == f"{IMAGE_ROOT}/deploy/webserver_config.py"
        for setting in (
            "DATABASE__SQL_ALCHEMY_CONN",
            "CORE__FERNET_KEY",
            "API_AUTH__JWT_SECRET",
            "API__SECRET_KEY",
        ):
            assert f"AIRFLOW__{setting}" not in env, f"{name} sets a secret in plain text"
            assert env[f"AIRFLOW__{setting}_CMD"].startswith("cat /run/cltv-secrets/"), name
    assert (
        services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/cltv-secrets/postgres_password"
    )


def test_every_secret_file_the_services_read_is_written_by_the_prepare_step(services):
    secrets_init = deploy_module("secrets_init")
    written = {secret.file for secret in secrets_init.SECRETS} | {secrets_init.SQL_ALCHEMY_CONN_FILE}
    read = set()
    for service in services.values():
        for value in service_environment(service).values():
            read |= set(re.findall(r"/run/cltv-secrets/([a-z_]+)", value))
    assert read
    assert read <= written
    variables = {secret.variable for secret in secrets_init.SECRETS}
    assert set(service_environment(services["cltv-prepare"])) == variables
    assert variables <= set(env_file_values())


def test_images_are_pinned_to_exact_versions(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        assert re.fullmatch(r"[a-z0-9./-]+:\d+\.\d+(\.\d+)?(-[a-z0-9]+)?", image), f"{name}: {image}"
    # secrets_init.py hands the password file to uid 999, the postgres user of the Debian variant.
    assert compose["services"]["postgres"]["image"].endswith("-bookworm")


def test_every_script_and_file_a_service_names_exists_in_the_image_tree(services):
    for name, service in services.items():
        for word in (service.get("command") or []) + list(service_environment(service).values()):
            for path in re.findall(rf"{IMAGE_ROOT}/[\w./-]+", str(word)):
                relative = PurePosixPath(path).relative_to(IMAGE_ROOT)
                assert (PROJECT_ROOT / relative).exists(), f"{name} names {path}"


def test_the_init_creates_the_pool_the_dag_uses():
    script = (DEPLOY_DIR / "airflow_init.sh").read_text()
    snippet = re.search(r"python -c '([^']+)'", script).group(1)
    printed = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, check=True)
    assert printed.stdout.strip() == WAREHOUSE_POOL == "cltv_warehouse"
    assert 'airflow pools set "${pool}" 1 ' in script
    assert "airflow db migrate" in script


@pytest.mark.parametrize("script", ["airflow_init.sh", "prepare.sh"])
def test_shell_scripts_are_valid_bash_that_stops_on_errors(script):
    path = DEPLOY_DIR / script
    subprocess.run(["bash", "-n", str(path)], check=True)
    assert "set -euo pipefail" in path.read_text()
