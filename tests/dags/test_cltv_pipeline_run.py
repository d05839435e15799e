"""The whole DAG, run in-process with `dag.test()` on a small generated sample, end to end."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cltv.config import Settings
from cltv.warehouse import connect
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


def test_whole_dag_on_a_small_sample_loads_and_builds_silver(airflow_db, pipeline_env: Settings):
    from cltv.sample import SampleSpec, generate_sample

    report = generate_sample(SampleSpec(rows=20_000, seed=7), pipeline_env.landing_dir)

    dag_run = run_pipeline(report.end.isoformat())

    assert dag_run.state == "success"
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

    rerun = run_pipeline(report.end.isoformat())

    assert rerun.state == "success"
    assert scalar(pipeline_env, "select count(*) from bronze.raw_invoices") == report.rows
    assert scalar(pipeline_env, "select count(*) from bronze.load_log") == len(report.files)


def test_a_bad_landing_file_fails_the_run_at_ingest(airflow_db, pipeline_env: Settings):
    pipeline_env.landing_dir.mkdir(parents=True)
    (pipeline_env.landing_dir / "broken.csv").write_text("InvoiceNo,StockCode\n536365,85123A\n")

    dag_run = run_pipeline("2011-12-09")

    assert dag_run.state == "failed"
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states["ingest"] == "failed"
