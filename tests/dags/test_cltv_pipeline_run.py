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


def test_whole_dag_on_a_small_sample_loads_models_and_scores(airflow_db, pipeline_env: Settings):
    from cltv.sample import SampleSpec, generate_sample

    report = generate_sample(SampleSpec(rows=20_000, seed=7), pipeline_env.landing_dir)

    dag_run = run_pipeline(report.end.isoformat())

    assert dag_run.state == "success"
    assert scalar(pipeline_env, "select count(*) from bronze.raw_invoices") == report.rows
    customers = scalar(pipeline_env, "select count(*) from gold.dim_customer")
    assert 0 < customers <= report.customers
    scored = scalar(
        pipeline_env,
        f"select count(*) from gold.customer_predictions where as_of_date = date '{report.end}'",
    )
    assert scored == customers
    assert scalar(pipeline_env, "select min(predicted_revenue) from gold.customer_predictions") >= 0

    rerun = run_pipeline(report.end.isoformat())

    assert rerun.state == "success"
    assert scalar(pipeline_env, "select count(*) from bronze.raw_invoices") == report.rows
