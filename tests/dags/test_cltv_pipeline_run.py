"""The whole DAG, run in-process with `dag.test()` on a small generated sample, end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cltv.config import Settings
from cltv.dbt_runner import artifacts_dir
from cltv.warehouse import connect
from tests.cltv.test_quality import FUTURE_YEAR, invoice_rows, land
from tests.dags.conftest import load_dagbag

pytestmark = pytest.mark.slow

LATER_STAGES = {"silver", "check_silver", "gold", "check_gold", "ml", "check_ml", "publish"}


@pytest.fixture
def pipeline_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point every task (and Cosmos' dbt env, fixed when the DAG file is parsed) at this test's warehouse."""
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    return settings


def run_pipeline(as_of: str, horizon_days: int = 90):
    dag = load_dagbag().dags["cltv_pipeline"]
    logical_date = datetime.fromisoformat(as_of).replace(tzinfo=UTC)
    return dag.test(logical_date=logical_date, run_conf={"as_of": as_of, "horizon_days": horizon_days})


def scalar(settings: Settings, sql: str):
    with connect(settings, read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def stage_seconds(dag_run) -> dict[str, float]:
    """Wall time per stage (task group or task), printed so a slow stage shows in the test log."""
    seconds: dict[str, float] = {}
    for ti in dag_run.get_task_instances():
        if ti.start_date and ti.end_date:
            stage = ti.task_id.split(".")[0]
            seconds[stage] = seconds.get(stage, 0.0) + (ti.end_date - ti.start_date).total_seconds()
    print({stage: round(value, 1) for stage, value in seconds.items()})
    return seconds


def returned(dag_run, task_id: str):
    """What a task of the run returned (its XCom)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        value = session.scalars(
            select(XComModel.value).where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == "return_value",
            )
        ).one()
    return json.loads(value) if isinstance(value, str) else value  # stored as JSON text or as JSON


def asset_events(dag_run) -> dict[str, set[str]]:
    """Asset URI -> the tasks of this run that recorded an event for it, from the metadata DB."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetModel.uri, AssetEvent.source_task_id)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetEvent.source_run_id == dag_run.run_id)
        ).all()
    events: dict[str, set[str]] = {}
    for uri, task_id in rows:
        events.setdefault(uri, set()).add(task_id)
    return events


def test_whole_dag_on_a_small_sample_publishes_segments_and_predictions(airflow_db, pipeline_env: Settings):
    from cltv.publish import open_serving, read_manifest
    from cltv.sample import SampleSpec, generate_sample

    report = generate_sample(SampleSpec(rows=20_000, seed=7), pipeline_env.landing_dir)
    as_of = report.end.isoformat()

    dag_run = run_pipeline(as_of)

    assert dag_run.state == "success"
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert set(states.values()) == {"success"}
    assert stage_seconds(dag_run)
    assert scalar(pipeline_env, "select count(*) from bronze.raw_invoices") == report.rows
    assert scalar(pipeline_env, "select count(*) from silver.stg_bronze__invoice_lines") == report.rows
    guests = scalar(
        pipeline_env, "select avg(is_missing_customer::int) from silver.stg_bronze__invoice_lines"
    )
    assert 0.10 < guests < 0.25
    assert (
        scalar(
            pipeline_env, "select count(*) from silver.stg_bronze__invoice_lines where customer_id like '%.0'"
        )
        == 0
    )
    # Every customer with a purchase by as_of has a segment and a prediction for this as_of.
    customers = scalar(pipeline_env, "select count(*) from gold.dim_customer")
    assert customers > 100
    assert scalar(pipeline_env, "select count(*) from gold.rfm_segments") == customers
    predictions = f"select count(*) from gold.customer_predictions where as_of_date = '{as_of}'"
    assert scalar(pipeline_env, predictions) == customers
    assert scalar(pipeline_env, "select count(*) from gold.model_runs") == 1
    # Every gate ran and recorded its checks; none failed.
    with connect(pipeline_env, read_only=True) as con:
        gates = dict(
            con.execute(
                "select layer, count(*) filter (outcome in ('fail', 'error')) from gold.dq_results "
                "where run_id = ? group by layer",
                [dag_run.run_id],
            ).fetchall()
        )
    assert gates == {"bronze": 0, "silver": 0, "gold": 0, "ml": 0}
    # The publication is this run's, and readers find the predictions in it.
    assert read_manifest(pipeline_env)["run_id"] == dag_run.run_id
    with open_serving(pipeline_env) as serving:
        assert serving.execute("select count(*) from gold.customer_predictions").fetchone()[0] == customers
    # Downstream DAGs hear of gold (from every gold model's task) and of the publication; Cosmos registers no
    # dataset per dbt model (emit_datasets=False saves that work in every dbt task).
    events = asset_events(dag_run)
    assert set(events) == {"cltv://warehouse/gold", "cltv://warehouse/serving"}
    assert "gold.fct_invoices_model_build" in events["cltv://warehouse/gold"]
    assert events["cltv://warehouse/serving"] == {"publish"}
    # The dbt tasks kept one parse state beside the warehouse, and wrote no run results per task.
    assert (artifacts_dir(pipeline_env) / "partial_parse.msgpack").is_file()
    assert not (artifacts_dir(pipeline_env) / "run_results.json").exists()

    first, trained = returned(dag_run, "plan_model"), returned(dag_run, "ml")  # a rerun drops them
    rerun = run_pipeline(as_of)

    assert rerun.state == "success"
    assert scalar(pipeline_env, "select count(*) from bronze.raw_invoices") == report.rows
    assert scalar(pipeline_env, "select count(*) from bronze.load_log") == len(report.files)
    assert scalar(pipeline_env, predictions) == customers  # replaced, not appended
    assert read_manifest(pipeline_env)["run_id"] == rerun.run_id
    # The rerun found the model the first run trained in the cache: plan_model narrowed dbt's cutoffs to as_of
    # (the gold tasks rendered them from its XCom) and the ML stage served the same model without training.
    again = returned(rerun, "plan_model")
    assert (first["model_cached"], again["model_cached"]) == (False, True)
    assert len(first["feature_cutoffs"]) > 1
    assert again["feature_cutoffs"] == [as_of]
    assert first["training_key"] == again["training_key"]
    served = returned(rerun, "ml")
    assert (trained["model_from_cache"], served["model_from_cache"]) == (False, True)
    assert served["model_version"] == trained["model_version"]

    # Each bad delivery stops the next run at the bronze gate, at the named check: nothing after it runs and
    # BI readers keep the last good publication. The operator then withdraws the load (README) and goes on.
    year = report.end.year
    faults = [
        (
            "negative_prices.csv",
            invoice_rows(1000, negative_price_share=0.05, year=year),
            "negative unit price share",
        ),
        (
            "guests.csv",
            invoice_rows(1000, missing_customer_share=0.6, year=year),
            "missing customer id share",
        ),
        ("future.csv", invoice_rows(200, year=FUTURE_YEAR), "invoices dated after their load"),
        ("pence.csv", invoice_rows(1000, unit_price=255.0, year=year), "median unit price of loaded lines"),
    ]
    for name, rows, check in faults:
        land(pipeline_env, name, rows)
        stops_at_bronze_gate(run_pipeline(as_of), pipeline_env, check, published_run=rerun.run_id)
        withdraw(pipeline_env, name)

    with connect(pipeline_env) as con:  # a warehouse rebuilt from a landing folder that lost half its lines
        con.execute("delete from bronze.raw_invoices where _source_row % 2 = 0")
    stops_at_bronze_gate(
        run_pipeline(as_of), pipeline_env, "row count vs previous run", published_run=rerun.run_id
    )


def stops_at_bronze_gate(dag_run, settings: Settings, check: str, *, published_run: str) -> None:
    from cltv.publish import open_serving, read_manifest

    assert dag_run.state == "failed"
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states["check_bronze"] == "failed"
    downstream = {state for task_id, state in states.items() if task_id.split(".")[0] in LATER_STAGES}
    assert downstream == {"upstream_failed"}
    with connect(settings, read_only=True) as con:
        outcomes = con.execute(
            "select outcome from gold.dq_results where run_id = ? and check_name = ?", [dag_run.run_id, check]
        ).fetchall()
    assert outcomes == [("fail",)], check
    assert read_manifest(settings)["run_id"] == published_run
    with open_serving(settings) as serving:
        assert serving.execute("select run_id from gold.publication").fetchone()[0] == published_run


def withdraw(settings: Settings, file_name: str) -> None:
    """The README's procedure for a delivery that failed a gate: its rows leave bronze, its load withdrawn."""
    (settings.landing_dir / file_name).unlink()
    with connect(settings) as con:
        (load_id,) = con.execute(
            "select load_id from bronze.load_log where source_file = ? and status = 'loaded'", [file_name]
        ).fetchone()
        con.execute("delete from bronze.raw_invoices where _load_id = ?", [load_id])
        con.execute("update bronze.load_log set status = 'withdrawn' where load_id = ?", [load_id])


def test_a_bad_landing_file_fails_the_run_at_ingest(airflow_db, pipeline_env: Settings):
    pipeline_env.landing_dir.mkdir(parents=True)
    (pipeline_env.landing_dir / "broken.csv").write_text("InvoiceNo,StockCode\n536365,85123A\n")

    dag_run = run_pipeline("2011-12-09")

    assert dag_run.state == "failed"
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states["ingest"] == "failed"
