"""The run plan: the model's anchor from the cadence, and the plan completed after ingest (plan_model)."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from cltv.config import Settings
from cltv.ingest import ingest_landing
from cltv.period import PeriodError
from cltv.pipeline import make_plan, plan_model
from ml.cache import ModelCache, TrainingOutcome
from tests.cltv.test_ingest import dated_row, write_csv


def plan_for(as_of: str, retrain: str = "quarterly") -> dict:
    return make_plan(
        run_id="r",
        run_date=date(2025, 3, 1),
        as_of=as_of,
        horizon_days=90,
        n_training_cutoffs=3,
        landing_dir=None,
        full_refresh=False,
        retrain=retrain,
    )


def test_a_monthly_plan_trains_as_of_the_quarter_end_and_lists_its_cutoffs_and_as_of():
    plan = plan_for("2025-02-28")
    assert (plan["retrain"], plan["model_anchor"]) == ("quarterly", "2024-12-31")
    assert plan["feature_cutoffs"][-1] == "2025-02-28"
    assert "2024-10-02" in plan["feature_cutoffs"]  # 2024-12-31 - 90 days: the validation cutoff
    assert all(c <= "2024-12-31" for c in plan["feature_cutoffs"][:-1])
    assert plan_for("2025-02-28", "every_run")["model_anchor"] == "2025-02-28"


def test_an_unknown_cadence_is_refused_naming_the_parameter():
    with pytest.raises(PeriodError, match="retrain must be one of quarterly, every_run"):
        plan_for("2025-02-28", "weekly")


def cache_a_model(settings: Settings, key: str) -> None:
    """A cache entry for `key` whose artifacts check out (the manifest's sha256 is the one recorded)."""
    artifacts = settings.models_dir / "xgb-20241231-h90-test"
    artifacts.mkdir(parents=True)
    (artifacts / "manifest.json").write_text("{}")
    sha = hashlib.sha256(b"{}").hexdigest()
    outcome = TrainingOutcome(
        "trained",
        "trained",
        date(2024, 12, 31),
        (date(2024, 10, 2),),
        10,
        artifacts.name,
        str(artifacts),
        sha,
    )
    ModelCache(settings.models_dir).store(key, outcome)


def test_the_completed_plan_builds_only_as_of_while_the_quarters_model_is_cached(settings: Settings):
    write_csv(settings.landing_dir / "2024.csv", [dated_row(i, "2024-11-05 10:00:00") for i in range(5)])
    ingest_landing(settings, run_id="r1")
    plan = plan_for("2025-02-28")

    untrained = plan_model(settings, plan)
    cache_a_model(settings, untrained["training_key"])
    cached = plan_model(settings, plan)
    write_csv(settings.landing_dir / "2025-02.csv", [dated_row(i, "2025-02-03 10:00:00") for i in range(5)])
    ingest_landing(settings, run_id="r2")
    after_new_month = plan_model(settings, plan)
    write_csv(settings.landing_dir / "late.csv", [dated_row(i, "2024-12-31 18:00:00") for i in range(5)])
    ingest_landing(settings, run_id="r3")
    after_late_lines = plan_model(settings, plan)

    assert (untrained["model_cached"], untrained["feature_cutoffs"]) == (False, plan["feature_cutoffs"])
    assert (cached["model_cached"], cached["feature_cutoffs"]) == (True, ["2025-02-28"])
    assert after_new_month["training_key"] == untrained["training_key"]
    assert after_new_month["model_cached"] is True
    assert after_late_lines["training_key"] != untrained["training_key"]
    assert (after_late_lines["model_cached"], after_late_lines["feature_cutoffs"]) == (
        False,
        plan["feature_cutoffs"],
    )
