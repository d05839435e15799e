"""The whole DAG, run in-process with `dag.test()` on a small generated sample, end to end."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cltv.config import Settings
from cltv.warehouse import connect
from tests.cltv.test_quality import invoice_rows, land
from tests.dags.conftest import load_dagbag

pytestmark = pytest.mark.slow


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

    rerun = run_pipeline(as_of)

    assert rerun.state == "success"
    assert scalar(pipeline_env, "select count(*) from bronze.raw_invoices") == report.rows
    assert scalar(pipeline_env, "select count(*) from bronze.load_log") == len(report.files)
    assert scalar(pipeline_env, predictions) == customers  # replaced, not appended
    assert read_manifest(pipeline_env)["run_id"] == rerun.run_id

    # A vendor file with 5% negative prices stops the next run at the bronze gate: nothing after it runs,
    # the check is recorded, and BI readers keep the last good publication.
    land(pipeline_env, "vendor.csv", invoice_rows(1000, negative_price_share=0.05, year=report.end.year))

    faulty = run_pipeline(as_of)

    assert faulty.state == "failed"
    states = {ti.task_id: ti.state for ti in faulty.get_task_instances()}
    assert states["check_bronze"] == "failed"
    assert {states[t] for t in states if t.split(".")[0] in {"silver", "gold", "ml", "publish"}} == {
        "upstream_failed"
    }
    with connect(pipeline_env, read_only=True) as con:
        outcome = con.execute(
            "select outcome, measured_value from gold.dq_results "
            "where run_id = ? and check_name = 'negative unit price share'",
            [faulty.run_id],
        ).fetchall()
    assert outcome == [("fail", 5.0)]
    assert read_manifest(pipeline_env)["run_id"] == rerun.run_id


def test_a_bad_landing_file_fails_the_run_at_ingest(airflow_db, pipeline_env: Settings):
    pipeline_env.landing_dir.mkdir(parents=True)
    (pipeline_env.landing_dir / "broken.csv").write_text("InvoiceNo,StockCode\n536365,85123A\n")

    dag_run = run_pipeline("2011-12-09")

    assert dag_run.state == "failed"
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states["ingest"] == "failed"
