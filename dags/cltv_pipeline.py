"""
### cltv_pipeline

Raw invoice files in the landing folder become customer lifetime value predictions and segments.

| stage | what it does | writes |
|---|---|---|
| `plan_run` | validates the parameters, resolves `as_of` and the feature cutoffs | (XCom only) |
| `ingest` | loads every new landing file once (by content hash) | `bronze.*` |
| `dbt` | silver and gold models, each followed by its tests (Cosmos) | `silver.*`, `gold.*` |

**Period.** `as_of` is the business date the run closes (inclusive). Left empty, a run closes the last whole
month (or quarter, with `CLTV_SCHEDULE=quarterly`) before its logical date: the run of 2011-12-01 closes
2011-11-30. Backfills: `airflow backfill create --dag-id cltv_pipeline --from-date ... --to-date ...`.

**One writer.** DuckDB lets one process write the warehouse; every task that writes runs in the
`cltv_warehouse` pool (one slot) and takes cltv's writer lock, and `max_active_runs=1`.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior, TestIndirectSelection

from cltv.config import DBT_PROJECT_DIR, Settings
from cltv.period import MAX_HORIZON_DAYS, MIN_HORIZON_DAYS

WAREHOUSE_POOL = "cltv_warehouse"
SCHEDULES = {"monthly": "0 3 1 * *", "quarterly": "0 3 1 1,4,7,10 *", "none": None}
SCHEDULE_NAME = os.environ.get("CLTV_SCHEDULE", "monthly")
PERIOD = "quarter" if SCHEDULE_NAME == "quarterly" else "month"
GOLD = Asset("cltv://warehouse/gold")


def plan_value(key: str) -> str:
    """A template that renders (natively) to one value of the run plan."""
    return "{{ ti.xcom_pull(task_ids='plan_run')['" + key + "'] }}"


@dag(
    dag_id="cltv_pipeline",
    description="Invoice files to CLV predictions and customer segments",
    doc_md=__doc__,
    schedule=SCHEDULES[SCHEDULE_NAME],
    start_date=datetime(2000, 1, 1),  # early, so backfills of old history have runs to create
    catchup=False,  # history is loaded by explicit backfills, never by accident when the DAG is switched on
    max_active_runs=1,  # one writer of the DuckDB warehouse
    render_template_as_native_obj=True,  # dbt vars keep their types (lists of cutoffs, booleans)
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

    @task(retries=0)
    def ingest(plan: dict[str, Any]) -> dict[str, Any]:
        """Load new landing files into bronze; a bad file fails the run at once (a retry cannot fix it)."""
        from cltv.pipeline import run_ingest

        return run_ingest(Settings.from_env(), plan)

    settings = Settings.from_env()
    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_PROJECT_DIR / "target" / "manifest.json",
            env_vars={"CLTV_WAREHOUSE": str(settings.warehouse), "DO_NOT_TRACK": "1"},
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
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD),
        operator_args={
            "vars": {
                "as_of": plan_value("as_of"),
                "horizon_days": plan_value("horizon_days"),
                "feature_cutoffs": plan_value("feature_cutoffs"),
            },
            "full_refresh": plan_value("full_refresh"),
            "retries": 1,
            "pool": WAREHOUSE_POOL,
            "outlets": [GOLD],
        },
    )

    plan = plan_run()
    ingest(plan) >> dbt


cltv_pipeline()
