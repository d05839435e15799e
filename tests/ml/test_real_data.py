"""Issue 5's acceptance: on Online Retail + Online Retail II as of 2011-09-09 with a 90-day horizon, judged on
the real next 90 days, XGBoost beats both baselines on Gini and Spearman and naive on RMSE.

The README's results table comes from the same run through the whole DAG (`make run` + `ml.report`); this
runs the same stages without Airflow: ingest, dbt for the features and facts, the ML stage, the report.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from cltv.config import Settings
from cltv.dbt_runner import run_dbt
from cltv.ingest import ingest_landing
from cltv.warehouse import connect
from ml.cutoffs import plan_cutoffs
from ml.pipeline import run_ml_stage
from ml.report import realised_evaluation

pytestmark = pytest.mark.slow

AS_OF = date(2011, 9, 9)
HORIZON = 90


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory, real_data) -> tuple[dict, dict[str, dict[str, float]]]:
    root = tmp_path_factory.mktemp("real-ml")
    settings = Settings.from_env(
        {
            "CLTV_WAREHOUSE": str(root / "w.duckdb"),
            "CLTV_LANDING_DIR": str(root / "in"),
            "CLTV_MODELS_DIR": str(root / "models"),
        }
    )
    settings.landing_dir.mkdir()
    for path in real_data.values():
        shutil.copy(path, settings.landing_dir / path.name)
    ingest_landing(settings, run_id="real-ml")
    cutoffs = [c.isoformat() for c in plan_cutoffs(AS_OF, HORIZON).all]
    dbt_vars = {"as_of": AS_OF.isoformat(), "horizon_days": HORIZON, "feature_cutoffs": cutoffs}
    run_dbt(["run", "--select", "+customer_features", "+fct_invoices"], settings, dbt_vars)
    summary = run_ml_stage(settings, run_id="real-ml", as_of=AS_OF, horizon_days=HORIZON)
    with connect(settings, read_only=True) as con:
        realised, note = realised_evaluation(con, AS_OF, HORIZON, None)
    assert realised, note
    return summary, realised


def test_xgboost_is_champion_on_the_backtests(judged):
    summary, _ = judged
    assert summary["status"] == "trained"
    assert summary["beat_baselines"] is True
    assert summary["champion"] == "xgboost"


def test_on_the_real_next_90_days_xgboost_beats_both_baselines_on_ranking_and_naive_on_rmse(judged):
    _, realised = judged
    xgb, bgnbd, naive = realised["xgboost"], realised["bgnbd"], realised["naive"]
    assert xgb["gini"] > max(bgnbd["gini"], naive["gini"])
    assert xgb["spearman"] > max(bgnbd["spearman"], naive["spearman"])
    assert xgb["rmse"] < naive["rmse"]
    # the README's table (same data, seeds and code): Gini 0.834, Spearman 0.577, RMSE 1,879 against 2,019
    assert xgb["gini"] == pytest.approx(0.834, abs=0.002)
    assert xgb["rmse"] == pytest.approx(1879, rel=0.01)
