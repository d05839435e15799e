"""`cltv.local_airflow`: the real api-server, scheduler (LocalExecutor) and dag-processor, as `make airflow`
starts them, run a triggered month of `cltv_pipeline` on a small sample and leave no process behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from cltv.config import Settings
from cltv.local_airflow import (
    AirflowStackError,
    LocalAirflow,
    free_port,
    local_environment,
    process_tree,
    run_airflow,
    stop_processes,
    tail,
)
from cltv.warehouse import connect

RUN_ID = "manual__local_airflow_test"
RUN_TIMEOUT_SECONDS = 2400  # one process per task (~30 dbt models): ~5 min idle, far more on a busy CI box


@pytest.fixture
def stack_env(tmp_path: Path, settings: Settings) -> dict[str, str]:
    """This test's own Airflow home and warehouse; no schedule, so only the triggered run exists."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    return {
        **inherited,
        **settings.to_env(),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "CLTV_SCHEDULE": "none",
    }


def scalar(settings: Settings, sql: str):
    with connect(settings, read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def retry_airflow(args: list[str], env: dict[str, str], timeout_seconds: float) -> str:
    """Retry a CLI call that fails until the dag-processor has registered the DAG."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            return run_airflow(args, env)
        except AirflowStackError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(3)


def json_output(text: str) -> list[dict]:
    """The JSON a CLI call printed; Airflow may print warnings on stdout before it."""
    return next((json.loads(line) for line in reversed(text.splitlines()) if line.startswith("[")), [])


def run_state(stack: LocalAirflow, run_id: str) -> str | None:
    runs = json_output(run_airflow(["dags", "list-runs", "cltv_pipeline", "-o", "json"], stack.env))
    return next((run["state"] for run in runs if run["run_id"] == run_id), None)


def wait_for_run(stack: LocalAirflow, run_id: str, timeout_seconds: float) -> str:
    """The run's final state; fails the test if it is still running at the deadline."""
    deadline = time.monotonic() + timeout_seconds
    state = None
    while time.monotonic() < deadline:
        stack.check_running()
        stack.remember_descendants()  # task processes too, to check later that none outlived the stack
        state = run_state(stack, run_id)
        if state in {"success", "failed"}:
            return state
        time.sleep(5)
    pytest.fail(f"run {run_id} still {state} after {timeout_seconds} s")


def task_states(stack: LocalAirflow, run_id: str) -> str:
    return run_airflow(["tasks", "states-for-dag-run", "cltv_pipeline", run_id], stack.env)


def last_task_logs(stack: LocalAirflow, run_id: str, count: int = 2) -> str:
    """The end of the most recently written task logs: a failed run's culprit is among them."""
    run_logs = stack.home / "logs" / "dag_id=cltv_pipeline" / f"run_id={run_id}"
    latest = sorted(run_logs.glob("task_id=*/attempt=*.log"), key=lambda p: p.stat().st_mtime)[-count:]
    return "\n".join(f"--- {path.parent.name}/{path.name}\n{tail(path, 40)}" for path in latest)


def test_local_environment_points_tasks_at_the_api_server_port():
    env = local_environment(18123, {"AIRFLOW_HOME": "/tmp/cltv-airflow-home"})

    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18123/execution/"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "sqlite:////tmp/cltv-airflow-home/airflow.db"


def test_a_taken_port_is_refused_before_anything_starts(tmp_path: Path):
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        stack = LocalAirflow.create(port, {"AIRFLOW_HOME": str(tmp_path / "airflow")})

        with pytest.raises(AirflowStackError, match=f"port {port} is in use"):
            stack.start()

    assert stack.processes == {}


def test_stopping_kills_a_component_and_its_children_even_when_they_ignore_sigterm():
    component = subprocess.Popen(
        ["bash", "-c", 'trap "" TERM; sleep 300 & sleep 300 & wait'], start_new_session=True
    )
    time.sleep(0.5)
    family = [p.pid for p in process_tree(component.pid)]
    assert len(family) == 3

    started = time.monotonic()
    stop_processes([component], grace_seconds=1)

    assert time.monotonic() - started >= 1  # SIGTERM was ignored: it took the SIGKILL after the grace period
    assert [pid for pid in family if psutil.pid_exists(pid) and not is_zombie(pid)] == []
    assert component.poll() is not None


@pytest.mark.slow
def test_the_scheduler_stack_runs_a_triggered_month_and_stops_cleanly(
    settings: Settings, stack_env: dict[str, str]
):
    from cltv.publish import read_manifest
    from cltv.sample import SampleSpec, generate_sample

    report = generate_sample(SampleSpec(rows=20_000, seed=7), settings.landing_dir)
    conf = {"as_of": report.end.isoformat(), "horizon_days": 90}

    with LocalAirflow.create(env=stack_env) as stack:
        stack.wait_until_healthy()
        retry_airflow(["dags", "unpause", "cltv_pipeline"], stack.env, timeout_seconds=300)
        run_airflow(
            ["dags", "trigger", "cltv_pipeline", "--run-id", RUN_ID, "--conf", json.dumps(conf)], stack.env
        )
        state = wait_for_run(stack, RUN_ID, RUN_TIMEOUT_SECONDS)
        states = task_states(stack, RUN_ID)
        why = "" if state == "success" else last_task_logs(stack, RUN_ID)
        seen = set(stack.pids)

    assert state == "success", f"{states}\n{why}"
    tasks = [line for line in states.splitlines() if line.startswith("cltv_pipeline ")]
    assert len(tasks) > 10  # ingest, gates, one task per dbt model, ml, publish
    assert all("| success " in line for line in tasks), states
    assert [pid for pid in seen if psutil.pid_exists(pid) and not is_zombie(pid)] == []
    bronze = scalar(settings, "select count(*) from bronze.raw_invoices")
    assert bronze == report.rows
    facts = scalar(settings, "select count(*) from gold.fct_invoices")
    excluded = scalar(settings, "select count(*) from silver.int_invoice_lines_excluded")
    assert facts > 0.5 * bronze
    assert facts + excluded == bronze
    customers = scalar(settings, "select count(*) from gold.dim_customer")
    assert customers == scalar(settings, "select count(distinct customer_id) from gold.fct_invoices")
    assert customers > 100
    assert read_manifest(settings)["run_id"] == RUN_ID  # published for the dashboard


def is_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
