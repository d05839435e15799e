"""The DAG file imports cleanly and is configured as a writer of one DuckDB file must be."""

from __future__ import annotations

import copy
import itertools
import subprocess
import sys
import time

import pytest

from cltv.airflow_env import DAGS_FOLDER, WAREHOUSE_POOL, airflow_environment
from cltv.config import Settings
from cltv.dbt_runner import artifacts_dir
from tests.dags.conftest import load_dagbag


@pytest.fixture(scope="module")
def dag():
    dagbag = load_dagbag()
    assert dagbag.import_errors == {}
    return dagbag.dags["cltv_pipeline"]


def test_dag_folder_imports_without_errors():
    dagbag = load_dagbag()
    assert dagbag.import_errors == {}
    assert "cltv_pipeline" in dagbag.dags


def test_dag_file_is_configuration_and_parses_fast():
    """No database, network or heavy work at import: the file parses in seconds in a fresh interpreter."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(DAGS_FOLDER / "cltv_pipeline.py")], check=True, env=airflow_environment()
    )
    assert time.monotonic() - started < 30  # generous for a loaded CI machine; typical is ~5 s


def test_dag_runs_one_at_a_time_without_catchup(dag):
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert {"cltv", "warehouse", "ml"} <= set(dag.tags)
    assert "as_of" in (dag.doc_md or "")


def test_every_task_that_writes_the_warehouse_shares_one_slot(dag):
    writers = [t for t in dag.tasks if t.task_id != "plan_run"]
    assert writers, "the DAG has no writing tasks"
    assert {t.pool for t in writers} == {WAREHOUSE_POOL}


STAGES = [
    "ingest",
    "check_bronze",
    "plan_model",
    "silver",
    "check_silver",
    "gold",
    "check_gold",
    "ml",
    "check_ml",
    "publish",
]


def stage_of(task_id: str) -> str:
    return task_id.split(".")[0]


def test_stages_run_in_order_each_gate_before_what_reads_its_layer(dag):
    """Every task of a stage runs after every task of the stage before it: a failed gate stops the rest."""
    by_stage: dict[str, set[str]] = {}
    for task in dag.tasks:
        by_stage.setdefault(stage_of(task.task_id), set()).add(task.task_id)
    assert set(by_stage) == {"plan_run", *STAGES}
    assert "silver.stg_bronze__invoice_lines_model_build" in by_stage["silver"]
    assert {"gold.fct_invoices_model_build", "gold.customer_features_model_build"} <= by_stage["gold"]
    for earlier, later in itertools.pairwise(STAGES):
        for task_id in by_stage[earlier]:
            downstream = dag.get_task(task_id).get_flat_relative_ids(upstream=False)
            assert by_stage[later] <= downstream, f"{later} does not wait for {task_id}"
    assert {"publish"} == {t.task_id for t in dag.tasks if not t.downstream_list}


def test_data_errors_are_not_retried_but_transient_ones_are(dag):
    for task_id in ["ingest", "check_bronze", "check_silver", "check_gold", "check_ml"]:
        assert dag.get_task(task_id).retries == 0, task_id
    assert dag.get_task("silver.stg_bronze__invoice_lines_model_build").retries == 1
    assert dag.get_task("ml").retries == 1
    assert dag.default_args["retry_exponential_backoff"]


def test_publish_and_gold_tell_downstream_dags_what_changed(dag):
    assert [a.uri for a in dag.get_task("publish").outlets] == ["cltv://warehouse/serving"]
    assert [a.uri for a in dag.get_task("gold.fct_invoices_model_build").outlets] == ["cltv://warehouse/gold"]


def test_dbt_tasks_share_the_warehouses_dbt_target_and_write_no_per_task_artifacts(dag):
    """What every dbt invocation skips: a full re-parse, manifest and run results, dataset registration,
    unit tests (CI runs them: tests/dbt/test_docs.py)."""
    dbt_tasks = [t for t in dag.tasks if stage_of(t.task_id) in {"silver", "gold"}]
    assert len(dbt_tasks) > 10
    target = str(artifacts_dir(Settings.from_env()))
    for task in dbt_tasks:
        flags = task.dbt_cmd_flags
        assert flags[flags.index("--target-path") + 1] == target, task.task_id
        assert "--no-write-json" in flags, task.task_id
        assert flags[flags.index("--exclude-resource-type") + 1] == "unit_test", task.task_id
        assert task.emit_datasets is False, task.task_id


def test_every_task_after_the_plan_runs_with_the_heap_frozen_and_thaws_it_however_it_ends(dag):
    def names(callbacks) -> list[str]:
        return [c.__name__ for c in (callbacks if isinstance(callbacks, list) else [callbacks]) if c]

    for task in dag.tasks:
        if task.task_id == "plan_run":
            continue
        # a dbt task also closes the warehouse connection dbt-duckdb keeps open (close_dbt_warehouse)
        thaw = "close_dbt_warehouse" if stage_of(task.task_id) in {"silver", "gold"} else "unfreeze_heap"
        assert names(task._pre_execute_hook) == ["freeze_heap"], task.task_id
        for callbacks in (task._post_execute_hook, task.on_failure_callback, task.on_retry_callback):
            assert names(callbacks) == [thaw], task.task_id


def test_default_params_are_valid(dag):
    params = copy.deepcopy(dag.params).validate()
    assert (params["horizon_days"], params["retrain"]) == (90, "quarterly")


def test_dbt_builds_the_cutoffs_of_the_plan_completed_after_ingest(dag):
    """plan_model narrows the feature cutoffs when the run's model is cached: dbt must read its plan."""
    task = dag.get_task("gold.customer_features_model_build")
    assert "task_ids='plan_model'" in task.env["CLTV_RUN_FEATURE_CUTOFFS"]
    assert not task.vars  # --vars would make every run's first dbt task parse the whole project
    assert "plan_model" in dag.get_task("ml").upstream_task_ids  # its argument is the completed plan


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("horizon_days", 0),
        ("horizon_days", "ninety"),
        ("as_of", "2011-13-45"),
        ("as_of", "9 Dec 2011"),
        ("n_training_cutoffs", 0),
        ("full_refresh", "yes"),
        ("retrain", "monthly"),
    ],
)
def test_bad_run_conf_is_refused_before_the_run_starts(dag, name, value):
    from airflow.sdk.definitions.param import ParamValidationError

    params = copy.deepcopy(dag.params)
    with pytest.raises(ParamValidationError, match=name):
        params[name] = value
