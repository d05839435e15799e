"""The benchmark on a tiny sample: the whole DAG really runs, and the JSON tells the truth about it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from bench.run import main, stage_of

pytestmark = pytest.mark.slow

ROWS = 5_000
# The benchmark points this process's environment at its own folders; monkeypatch puts it back.
BENCH_ENVIRONMENT = (
    "AIRFLOW_HOME",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__LOGGING__BASE_LOG_FOLDER",
    "CLTV_WAREHOUSE",
    "CLTV_LANDING_DIR",
    "CLTV_SERVING_DIR",
    "CLTV_MODELS_DIR",
    "CLTV_MAX_REJECT_SHARE",
    "CLTV_DUCKDB_MEMORY_LIMIT",
    "CLTV_DUCKDB_THREADS",
    "CLTV_LOCK_TIMEOUT_SECONDS",
)


@pytest.fixture
def bench_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    for key in BENCH_ENVIRONMENT:
        monkeypatch.setenv(key, os.environ.get(key, ""))
    monkeypatch.setenv("CLTV_DUCKDB_MEMORY_LIMIT", "2GB")
    return tmp_path / "work", tmp_path / "results"


def bench(work: Path, results: Path, *extra: str) -> None:
    assert main(["--rows", str(ROWS), "--work-dir", str(work), "--results-dir", str(results), *extra]) == 0


def warehouse_counts(result: dict) -> dict[str, dict[str, int]]:
    """Row counts read independently of the benchmark, from the warehouse it names."""
    counts: dict[str, dict[str, int]] = {}
    with duckdb.connect(result["run"]["warehouse"], read_only=True) as con:
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('bronze', 'silver', 'gold')"
        ).fetchall():
            rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            counts.setdefault(schema, {})[table] = rows
    return counts


def test_full_then_incremental_benchmark_report_what_ran(bench_dirs: tuple[Path, Path]):
    work, results = bench_dirs

    bench(work, results)
    full = json.loads((results / "latest.json").read_text())

    assert list(full)[:3] == ["rows", "total_seconds", "peak_rss_bytes"]
    assert full["status"] == "success"
    assert abs(full["rows"] - ROWS) <= ROWS // 100
    assert full["tables"]["bronze"]["raw_invoices"] == full["rows"]
    assert full["tables"] == warehouse_counts(full)
    assert full["tables"]["gold"]["fct_invoices"] > 0
    stage_seconds = [stage["seconds"] for stage in full["stages"].values()]
    assert all(seconds > 0 for seconds in stage_seconds)
    assert sum(stage_seconds) <= full["total_seconds"]
    assert {"plan", "ingest", "dbt_models"} <= set(full["stages"])
    assert full["stages"]["dbt_models"]["tasks"] == len(
        [t for t in full["tasks"] if t["stage"] == "dbt_models"]
    )
    assert 100 * 2**20 < full["peak_rss_bytes"] < full["machine"]["memory_bytes"]
    assert full["rows_per_second"] == pytest.approx(full["rows"] / full["total_seconds"], rel=1e-3)
    assert len(list(results.glob(f"*-{ROWS}.json"))) == 1

    bench(work, results, "--incremental")
    month = json.loads((results / "latest-incremental.json").read_text())

    assert month["status"] == "success"
    assert month["run"]["as_of"] == "2025-01-31"
    assert 0 < month["rows"] < full["rows"] / 10
    assert month["tables"]["bronze"]["raw_invoices"] == full["rows"] + month["rows"]
    assert month["tables"] == warehouse_counts(month)
    assert json.loads((results / "latest.json").read_text()) == full
    assert len(list(results.glob(f"*-incremental-{ROWS}.json"))) == 1


@pytest.mark.parametrize(
    ("task_id", "operator", "stage"),
    [
        ("plan_run", "_PythonDecoratedOperator", "plan"),
        ("ingest", "_PythonDecoratedOperator", "ingest"),
        ("check_bronze", "_PythonDecoratedOperator", "quality_gates"),
        ("gold.fct_invoices_model_build", "DbtBuildLocalOperator", "dbt_models"),
        ("dbt.stg_bronze__invoice_lines_run", "", "dbt_models"),
        ("ml", "_PythonDecoratedOperator", "ml"),
        ("publish", "_PythonDecoratedOperator", "publish"),
        ("notify_marketing", "_PythonDecoratedOperator", "other"),
    ],
)
def test_tasks_are_grouped_into_stages_by_operator_or_id_prefix(task_id: str, operator: str, stage: str):
    assert stage_of(task_id, operator) == stage
