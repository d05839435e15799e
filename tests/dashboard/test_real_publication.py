"""The dashboard's reconstructions against what the real stack wrote (sample -> dbt -> ML -> publish)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from dashboard import audiences, data
from dashboard.tiers import model_run_id, tier_thresholds
from tests.dashboard.conftest import RealPublication

pytestmark = pytest.mark.slow


def test_tier_thresholds_rebuilt_from_gold_equal_the_ones_the_model_saved(real_publication: RealPublication):
    def rebuilt_and_saved(con):
        pub = data.publication(con)
        run_id = model_run_id(con, pub.as_of)
        (artifacts,) = con.execute(
            "select artifact_path from gold.model_runs where run_id = ?", [run_id]
        ).fetchone()
        return tier_thresholds(con, run_id), json.loads((Path(artifacts) / "features.json").read_text())

    rebuilt, saved = data.read(rebuilt_and_saved, real_publication.settings)
    assert rebuilt == pytest.approx(tuple(saved["tier_thresholds"]), rel=1e-9)


def test_last_period_revenue_is_the_label_of_the_cutoff_one_horizon_before_as_of(
    real_publication: RealPublication,
):
    """The current tier reads (as_of - H, as_of]: the label window dbt computes for the cutoff as_of - H."""

    def base_and_labels(con):
        pub = data.publication(con)
        labels = con.execute(
            "select customer_id, greatest(label_revenue, 0)::double from gold.customer_features "
            "where cutoff_date = ? and horizon_days = ?",
            [pub.as_of - timedelta(days=pub.horizon_days), pub.horizon_days],
        ).fetchall()
        return audiences.customer_base(con, pub.as_of), dict(labels)

    base, labels = data.read(base_and_labels, real_publication.settings)
    known = base[base["customer_id"].isin(labels)]
    assert len(known) > 50
    assert dict(zip(known["customer_id"], known["last_period_revenue"], strict=True)) == pytest.approx(labels)
    assert set(base["current_tier"]) <= {"none", "low", "mid", "high"}
    assert base["current_tier"].notna().all()
