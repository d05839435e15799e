"""
### cltv_pipeline

Raw invoice files in the landing folder become customer lifetime value predictions and segments.

| stage | what it does | writes |
|---|---|---|
| `plan_run` | validates the parameters; resolves `as_of`, the model's anchor, the cutoffs | (XCom only) |
| `ingest` | loads every new landing file once (by content hash) | `bronze.*` |
| `check_bronze` | Soda contracts of bronze | `gold.dq_results` |
| `plan_model` | keys the run's model by its data; if cached, dbt builds no training cutoff | (XCom only) |
| `silver` | staging and intermediate dbt models, each followed by its tests (Cosmos) | `silver.*` |
| `check_silver` | Soda contracts of silver | `gold.dq_results` |
| `gold` | marts: facts, dimensions, RFM, features, reports, each followed by its tests | `gold.*` |
| `check_gold` | Soda contracts of gold and the report tables | `gold.dq_results` |
| `ml` | backtests, trains (or reuses), scores XGBoost | `gold.customer_predictions`, `gold.model_*` |
| `check_ml` | Soda contracts of the predictions | `gold.dq_results` |
| `publish` | copies gold to the serving file and Parquet, swapped in atomically | `$CLTV_SERVING_DIR` |

**Gates.** A failed check fails its task at once (no retry: the data will not change) and nothing after it
runs: the last good publication keeps serving. Warnings are recorded in `gold.dq_results` and the run goes on.

**Period.** `as_of` is the business date the run closes (inclusive). Left empty, a run closes the last whole
month (or quarter, with `CLTV_SCHEDULE=quarterly`) before its logical date: the run of 2011-12-01 closes
2011-11-30. Backfills: `airflow backfill create --dag-id cltv_pipeline --from-date ... --to-date ...`.

**Retraining.** `retrain=quarterly` (default): a run serves the model trained as of the last quarter end on
or before its as_of; the quarter's last month trains it, the next two reuse it from the model cache unless
lines dated up to that quarter end arrived since (then they retrain it). `every_run`: trained as of as_of.

**One writer.** DuckDB lets one process write the warehouse; every task that writes runs in the
`cltv_warehouse` pool (one slot) and takes cltv's writer lock, and `max_active_runs=1`.
"""

from __future__ import annotations

import gc
import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior, TestIndirectSelection

from cltv.airflow_env import WAREHOUSE_POOL
from cltv.config import DBT_PROJECT_DIR, Settings
from cltv.dbt_runner import RUN_PARAMS, artifacts_dir, close_dbt_connections, run_param_variable
from cltv.period import MAX_HORIZON_DAYS, MIN_HORIZON_DAYS

SCHEDULES = {"monthly": "0 3 1 * *", "quarterly": "0 3 1 1,4,7,10 *", "none": None}
SCHEDULE_NAME = os.environ.get("CLTV_SCHEDULE", "monthly")
PERIOD = "quarter" if SCHEDULE_NAME == "quarterly" else "month"
GOLD = Asset("cltv://warehouse/gold")
SERVING = Asset("cltv://warehouse/serving")


# how a run parameter becomes the text of its environment variable where str() would not do (as
# cltv.dbt_runner.env_text does for run_dbt; here at render time, from the completed plan)
TEXT_FILTERS = {"feature_cutoffs": "join(',')"}


def plan_value(key: str, jinja_filter: str | None = None) -> str:
    """A template that renders (natively) to one value of the run's completed plan (`plan_model`)."""
    value = "ti.xcom_pull(task_ids='plan_model')['" + key + "']"
    return "{{ " + value + (f" | {jinja_filter}" if jinja_filter else "") + " }}"


def freeze_heap(context: Any) -> None:
    """Keep what the task's process already holds out of the garbage collections the task triggers.

    In `airflow dags test` (`cltv run`) one process runs every task and still holds every earlier task's
    objects: Cosmos' `gc.collect()` after each dbt invocation walked them (~0.7 s per dbt task), and so did
    the collections that the ML stage's many small objects (pandas, lifetimes' autograd) set off.
    """
    gc.freeze()


def unfreeze_heap(context: Any, result: Any = None) -> None:
    """Hand the frozen objects back to the collector once the task is done, whether it passed or not."""
    gc.unfreeze()


# Every task after plan_run runs with the heap it inherits frozen (see freeze_heap) and thaws it however it
# ends (plan_run is the first task: there is nothing before it to freeze).
FROZEN_HEAP: dict[str, Any] = {
    "pre_execute": freeze_heap,
    "post_execute": unfreeze_heap,
    "on_failure_callback": unfreeze_heap,
    "on_retry_callback": unfreeze_heap,
}


def close_dbt_warehouse(context: Any, result: Any = None) -> None:
    """After a dbt task, however it ends: close the warehouse connection dbt-duckdb keeps open for the
    invocation (`keep_open`), so the next task in the process opens it afresh, then thaw the heap."""
    try:
        close_dbt_connections()
    finally:
        unfreeze_heap(context)


DBT_TASK_HOOKS: dict[str, Any] = {
    "pre_execute": freeze_heap,
    "post_execute": close_dbt_warehouse,
    "on_failure_callback": close_dbt_warehouse,
    "on_retry_callback": close_dbt_warehouse,
}


def dbt_task_group(group_id: str, select: list[str], outlets: list[Asset] | None = None) -> DbtTaskGroup:
    """One layer of dbt models as Cosmos tasks, each model built with its tests (`dbt build`).

    Each task is one dbt invocation, so what an invocation does besides SQL is paid 20 times a run:
    - dbt's target (partial-parse state, compiled SQL) is the warehouse's `dbt_target/`, not Cosmos'
      throw-away copy of the project: every task of both groups reuses the parse of the run's first task,
      which re-parses only the files that read the run's parameters (passed as environment variables,
      macro `run_param`: new --vars would make dbt parse the whole project again, 2.5 s at 100M lines);
    - no manifest.json or run_results.json per task (`--no-write-json`): nothing reads them, and Cosmos'
      OpenLineage parse, which looks for them in its copy of the project, stops at once;
    - no dataset registration per task (`emit_datasets=False`): the gold group announces `GOLD` itself;
    - the warehouse is opened once per task, not once per node, and closed when the task ends
      (`close_dbt_warehouse`);
    - the heap is frozen while the task runs (`freeze_heap`).
    """
    settings = Settings.from_env()
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_PROJECT_DIR / "target" / "manifest.json",
            # telemetry is off process-wide; the run's parameters are environment variables (macro
            # run_param), not --vars, so a new as_of re-parses only the files that read them
            env_vars={
                "CLTV_WAREHOUSE": str(settings.warehouse),
                **{run_param_variable(name): plan_value(name, TEXT_FILTERS.get(name)) for name in RUN_PARAMS},
            },
        ),
        profile_config=ProfileConfig(
            profile_name="cltv", target_name="duckdb", profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml"
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            # A test that spans models (relationships) runs with the last of them, never before it exists.
            test_indirect_selection=TestIndirectSelection.BUILDABLE,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            select=select,
            emit_datasets=False,
        ),
        operator_args={
            "full_refresh": plan_value("full_refresh"),
            # Unit tests check SQL logic on fixed inputs: CI runs them (tests/dbt/test_docs.py), as dbt
            # advises; a production run would only repeat them.
            "dbt_cmd_flags": [
                "--target-path",
                str(artifacts_dir(settings)),
                "--no-write-json",
                "--exclude-resource-type",
                "unit_test",
            ],
            # Compiled SQL is in the warehouse's dbt_target/ (see above), not in Cosmos' copy of the project.
            "should_store_compiled_sql": False,
            **DBT_TASK_HOOKS,
            "retries": 1,
            "pool": WAREHOUSE_POOL,
            "outlets": outlets or [],
        },
    )


@dag(
    dag_id="cltv_pipeline",
    description="Invoice files to CLV predictions and customer segments",
    doc_md=__doc__,
    schedule=SCHEDULES[SCHEDULE_NAME],
    start_date=datetime(2000, 1, 1),  # early, so backfills of old history have runs to create
    catchup=False,  # history is loaded by explicit backfills, never by accident when the DAG is switched on
    max_active_runs=1,  # one writer of the DuckDB warehouse
    render_template_as_native_obj=True,  # templated arguments keep their types (booleans, numbers)
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "pool": WAREHOUSE_POOL,
    },
    params={
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Business date the run closes (YYYY-MM-DD, inclusive). Empty: the last whole period.",
        ),
        "horizon_days": Param(
            90,
            type="integer",
            minimum=MIN_HORIZON_DAYS,
            maximum=MAX_HORIZON_DAYS,
            description="Days ahead that predictions cover.",
        ),
        "n_training_cutoffs": Param(
            3, type="integer", minimum=1, maximum=8, description="Past cutoffs stacked for training."
        ),
        "landing_dir": Param(
            None, type=["null", "string"], description="Folder of invoice files. Empty: CLTV_LANDING_DIR."
        ),
        "retrain": Param(
            "quarterly",
            type="string",
            enum=["quarterly", "every_run"],
            description="quarterly: serve the model trained as of the last quarter end (cached); "
            "every_run: train as of as_of.",
        ),
        "full_refresh": Param(
            False, type="boolean", description="Rebuild incremental dbt models from scratch."
        ),
    },
    tags=["cltv", "warehouse", "ml"],
)
def cltv_pipeline() -> None:
    @task(pool="default_pool")
    def plan_run(**context: Any) -> dict[str, Any]:
        """Validate the run's parameters and fix its period, so every later task reads the same plan."""
        from cltv.pipeline import plan_from_context

        return plan_from_context(context, period=PERIOD)

    @task(retries=0, **FROZEN_HEAP)
    def ingest(plan: dict[str, Any]) -> dict[str, Any]:
        """Load new landing files into bronze; a bad file fails the run at once (a retry cannot fix it)."""
        from cltv.pipeline import run_ingest

        return run_ingest(Settings.from_env(), plan)

    def quality_gate(layer: str):
        @task(task_id=f"check_{layer}", retries=0, **FROZEN_HEAP)
        def check(plan: dict[str, Any]) -> dict[str, Any]:
            """Soda contracts of one layer: a failed check stops the run before anything is published."""
            from cltv.pipeline import run_quality_gate

            return run_quality_gate(Settings.from_env(), plan, layer)

        return check

    @task(**FROZEN_HEAP)
    def plan_model(plan: dict[str, Any]) -> dict[str, Any]:
        """Key the run's model by its training data, after ingest: a cached model spares training features."""
        from cltv.pipeline import plan_model

        return plan_model(Settings.from_env(), plan)

    @task(retries=1, execution_timeout=timedelta(hours=2), **FROZEN_HEAP)
    def ml(plan: dict[str, Any]) -> dict[str, Any]:
        """Backtest, train and score the XGBoost models and the baselines; writes gold's ML tables."""
        from cltv.pipeline import run_ml

        return run_ml(Settings.from_env(), plan)

    @task(outlets=[SERVING], **FROZEN_HEAP)
    def publish(plan: dict[str, Any]) -> dict[str, Any]:
        """Swap this run's gold in for BI readers; runs only when every gate before it passed."""
        from cltv.pipeline import run_publish

        return run_publish(Settings.from_env(), plan)

    plan = plan_run()
    completed = plan_model(plan)
    silver = dbt_task_group("silver", ["path:models/staging", "path:models/intermediate"])
    gold = dbt_task_group("gold", ["path:models/marts"], outlets=[GOLD])
    (
        ingest(plan)
        >> quality_gate("bronze")(plan)
        >> completed
        >> silver
        >> quality_gate("silver")(completed)
        >> gold
        >> quality_gate("gold")(completed)
        >> ml(completed)
        >> quality_gate("ml")(completed)
        >> publish(completed)
    )


cltv_pipeline()
