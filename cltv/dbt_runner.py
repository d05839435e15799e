"""Run dbt in-process against the warehouse, as its only writer, and leave no connection open.

In-process (`dbtRunner`) saves the few seconds a `dbt` process spends importing itself on every call.
The warehouse path reaches `profiles.yml` through `CLTV_WAREHOUSE`; the writer lock of
`cltv.warehouse` is held for the whole invocation so no other cltv writer interleaves.

Only `dbt parse` writes `dbt_project/target/` (the manifest Cosmos renders the DAG from, read by every DAG
parse). Every other command writes its artifacts and logs beside the warehouse it builds
(`<warehouse dir>/dbt_target/`), so a build never rewrites the manifest under a reader's feet and two
warehouses (tests, benchmarks) never share run results. The DAG's Cosmos tasks use the same folder for
their partial-parse state and compiled SQL (`dags/cltv_pipeline.py`), so its 20 dbt tasks parse once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cltv.config import DBT_PROJECT_DIR, Settings
from cltv.warehouse import writer_lock


class DbtError(RuntimeError):
    """A dbt command failed; the message lists the nodes that failed and why."""


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment variables `profiles.yml` reads."""
    return {
        "CLTV_WAREHOUSE": str(settings.warehouse),
        "CLTV_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def artifacts_dir(settings: Settings) -> Path:
    """Where dbt writes run results, compiled SQL and logs for commands run against this warehouse."""
    return settings.warehouse.parent / "dbt_target"


def dbt_args(command: list[str], dbt_vars: Mapping[str, Any] | None, settings: Settings) -> list[str]:
    args = [*command, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    if command[0] != "parse":
        target = artifacts_dir(settings)
        args += ["--target-path", str(target), "--log-path", str(target / "logs")]
    if dbt_vars:
        args += ["--vars", json.dumps(dict(dbt_vars), default=str)]
    return args


def failure_summary(result: Any) -> str:
    """One line per failed node: its name, status and message."""
    lines = []
    for node_result in getattr(result.result, "results", None) or []:
        if str(node_result.status) in {"error", "fail", "runtime error"}:
            lines.append(f"{node_result.node.name}: {node_result.status}: {node_result.message}")
    if result.exception is not None:
        lines.append(str(result.exception))
    return "\n".join(lines) or "dbt reported failure without details (see its log)"


def close_dbt_connections() -> None:
    """Close the warehouse connection dbt-duckdb keeps for the process; a no-op when none is open.

    With `keep_open: true` (profiles.yml) a dbt invocation opens the warehouse once instead of once per node:
    each open and close of the warehouse file costs ~25 ms at 100M lines, and a monthly run has ~230 nodes.
    dbt-duckdb keeps that connection in a class-level environment that outlives the invocation and dbt's
    `reset_adapters`, so whoever invokes dbt calls this afterwards: no lock, and no connection whose settings
    would clash with the next reader's in the same process, outlives the call.
    """
    from dbt.adapters.factory import reset_adapters

    reset_adapters()
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt without dbt-duckdb: nothing of ours is open
        return
    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()


RUN_PARAMS = ("as_of", "horizon_days", "feature_cutoffs")


def run_param_variable(name: str) -> str:
    """The environment variable of a run parameter that dbt's macro `run_param` reads (its name upper-cased
    after `CLTV_RUN_`): set per dbt invocation by the DAG and `run_dbt`, never a deployment setting."""
    return "CLTV_RUN_" + name.upper()


def run_param_env(run_params: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The run's parameters as the environment variables dbt's macro `run_param` reads first (as the DAG
    passes them: a changed value re-parses only the files that read it, where changed --vars re-parse the
    whole project); the ones not given are set empty, so a stray variable never overrides --vars."""
    given = dict(run_params or {})
    unknown = set(given) - set(RUN_PARAMS)
    if unknown:
        raise ValueError(f"not run parameters: {sorted(unknown)} (known: {', '.join(RUN_PARAMS)})")
    return {run_param_variable(name): env_text(given.get(name)) for name in RUN_PARAMS}


def env_text(value: Any) -> str:
    """A run parameter as text: lists comma-separated (feature cutoffs), None empty."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def run_dbt(
    command: list[str],
    settings: Settings,
    dbt_vars: Mapping[str, Any] | None = None,
    *,
    run_params: Mapping[str, Any] | None = None,
) -> Any:
    """Run one dbt command (e.g. `["build", "--select", "staging"]`); raise `DbtError` if it fails.

    `run_params` (as_of, horizon_days, feature_cutoffs) go as environment variables, as the DAG passes
    them; `dbt_vars` as --vars.
    """
    from dbt.cli.main import dbtRunner

    environment = dbt_env(settings) | run_param_env(run_params)
    with writer_lock(settings.warehouse, settings.lock_timeout_seconds), patched_environ(environment):
        try:
            result = dbtRunner().invoke(dbt_args(command, dbt_vars, settings))
        finally:
            close_dbt_connections()
    if not result.success:
        raise DbtError(f"dbt {' '.join(command)} failed:\n{failure_summary(result)}")
    return result
