"""Tier thresholds rebuilt from the serving file, and the tier of an amount."""

from __future__ import annotations

import duckdb
import pytest

from cltv.config import Settings
from dashboard import data
from dashboard.tiers import model_run_id, tier_of, tier_thresholds
from tests.dashboard.conftest import AS_OF, RUN_ID, TIER_THRESHOLDS


def test_thresholds_are_the_tertiles_of_the_positive_labels_of_the_run_training_cutoffs(
    tiny_publication: Settings,
):
    # Labels 100..400 at the training cutoff count; 0 and -20, another horizon, another cutoff do not.
    def thresholds(con):
        return tier_thresholds(con, model_run_id(con, AS_OF))

    assert data.read(thresholds, tiny_publication) == TIER_THRESHOLDS


def test_the_model_run_is_the_one_that_scored_as_of(tiny_publication: Settings):
    assert data.read(lambda con: model_run_id(con, AS_OF), tiny_publication) == RUN_ID


def test_a_run_without_labelled_buyers_has_no_thresholds(tiny_publication: Settings):
    assert data.read(lambda con: tier_thresholds(con, "run-old"), tiny_publication) is None
    assert data.read(lambda con: tier_thresholds(con, None), tiny_publication) is None


@pytest.mark.parametrize(
    ("revenue", "tier"),
    [
        (-5.0, "none"),
        (0.0, "none"),
        (0.01, "low"),
        (200.0, "low"),
        (200.01, "mid"),
        (300.0, "mid"),
        (301, "high"),
    ],
)
def test_tier_of_an_amount(revenue: float, tier: str):
    assert tier_of(revenue, (200.0, 300.0)) == tier


def test_without_thresholds_only_none_is_known():
    assert (tier_of(0.0, None), tier_of(10.0, None)) == ("none", None)


def test_thresholds_the_ml_stage_recorded_are_used_and_missing_ones_rebuilt():
    con = duckdb.connect()
    con.execute(
        """
        create schema gold;
        create table gold.model_runs (
            run_id varchar, horizon_days integer, training_cutoffs varchar,
            tier_low_max double, tier_mid_max double
        );
        insert into gold.model_runs values
            ('recorded', 90, '["2024-10-02"]', 12.5, 99.0),
            ('unrecorded', 90, '["2024-10-02"]', null, null);
        create table gold.customer_features (cutoff_date date, horizon_days integer, label_revenue double);
        insert into gold.customer_features values
            (date '2024-10-02', 90, 30), (date '2024-10-02', 90, 60), (date '2024-10-02', 90, 90),
            (date '2024-10-02', 90, 0);
        """
    )
    # recorded: exactly what the model used, not the tertiles of the labels (50, 70)
    assert tier_thresholds(con, "recorded") == (12.5, 99.0)
    assert tier_thresholds(con, "unrecorded") == (50.0, 70.0)
