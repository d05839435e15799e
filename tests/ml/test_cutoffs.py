from __future__ import annotations

from datetime import date, timedelta

import pytest

from ml.cutoffs import model_anchor, plan_cutoffs, seasonal_cutoff


def test_training_cutoffs_step_back_by_the_horizon_and_add_the_same_season_last_year():
    plan = plan_cutoffs(date(2011, 12, 9), 90, n_training_cutoffs=3, n_backtests=0)
    assert plan.scoring == date(2011, 12, 9)
    # the seasonal cutoff is 4 x 90 = 360 days back (2010-12-14), not 365 (2010-12-09): within a week of it
    assert plan.training == (date(2010, 12, 14), date(2011, 3, 14), date(2011, 6, 12), date(2011, 9, 10))
    assert plan.validation == date(2011, 9, 10)
    assert plan.all == [*plan.training, date(2011, 12, 9)]


def test_every_training_label_window_ends_by_as_of():
    as_of = date(2011, 9, 9)
    for horizon in (30, 90, 180, 365):
        plan = plan_cutoffs(as_of, horizon, n_training_cutoffs=4)
        assert all(c + timedelta(days=horizon) <= as_of for c in plan.training)


def test_backtests_are_out_of_time_and_replay_the_training_rule():
    plan = plan_cutoffs(date(2011, 9, 9), 90, n_training_cutoffs=2, n_backtests=3)
    assert [b.cutoff for b in plan.backtests] == [date(2011, 6, 11), date(2011, 3, 13), date(2010, 12, 13)]
    first = plan.backtests[0]
    assert first.training == (date(2010, 6, 16), date(2010, 12, 13), date(2011, 3, 13))
    for backtest in plan.backtests:
        # the backtest's own labels end by as_of, and its model's labels end by the backtest cutoff
        assert backtest.cutoff + timedelta(days=90) <= plan.scoring
        assert all(c + timedelta(days=90) <= backtest.cutoff for c in backtest.training)


def test_all_lists_every_cutoff_dbt_must_build_once_oldest_first():
    plan = plan_cutoffs(date(2011, 9, 9), 90, n_training_cutoffs=2, n_backtests=2)
    expected = {plan.scoring, *plan.training}
    for backtest in plan.backtests:
        expected |= {backtest.cutoff, *backtest.training}
    assert plan.all == sorted(expected)
    assert len(plan.all) == len(set(plan.all))
    assert plan.all[-1] == plan.scoring


@pytest.mark.parametrize(
    ("horizon", "seasonal"),
    [
        (90, date(2010, 9, 14)),  # 4 x 90 = 360 days
        (30, date(2010, 9, 14)),  # 12 x 30
        (180, date(2010, 9, 14)),  # 2 x 180
        (7, date(2010, 9, 10)),  # 52 x 7 = 364
        (100, date(2010, 9, 9)),  # 4 x 100 = 400 and 3 x 100 = 300 are weeks off: exactly a year
    ],
)
def test_the_seasonal_cutoff_is_the_multiple_of_the_horizon_nearest_a_year_when_within_a_week(
    horizon, seasonal
):
    assert seasonal_cutoff(date(2011, 9, 9), horizon) == seasonal
    assert seasonal in plan_cutoffs(date(2011, 9, 9), horizon, n_training_cutoffs=1, n_backtests=0).training


def test_backtests_share_the_seasonal_cutoffs_so_a_quarterly_plan_builds_eight_cutoffs():
    plan = plan_cutoffs(date(2011, 9, 9), 90, n_training_cutoffs=3, n_backtests=3)
    assert plan.all == [date(2011, 9, 9) - timedelta(days=90 * k) for k in range(7, -1, -1)]


def test_a_horizon_longer_than_a_year_adds_no_seasonal_cutoff_inside_its_own_window():
    plan = plan_cutoffs(date(2012, 2, 29), 400, n_training_cutoffs=1)
    assert plan.training == (date(2012, 2, 29) - timedelta(days=400),)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="positive"):
        plan_cutoffs(date(2011, 1, 1), 0)
    with pytest.raises(ValueError, match="n_backtests"):
        plan_cutoffs(date(2011, 1, 1), 30, n_backtests=-1)


@pytest.mark.parametrize(
    ("as_of", "anchor"),
    [
        ("2025-01-31", "2024-12-31"),
        ("2025-02-28", "2024-12-31"),
        ("2025-03-30", "2024-12-31"),
        ("2025-03-31", "2025-03-31"),
        ("2025-04-01", "2025-03-31"),
        ("2025-06-30", "2025-06-30"),
        ("2025-09-29", "2025-06-30"),
        ("2024-12-31", "2024-12-31"),
        ("2024-02-29", "2023-12-31"),
    ],
)
def test_the_quarterly_cadence_trains_as_of_the_last_quarter_end_on_or_before_as_of(as_of: str, anchor: str):
    assert model_anchor(date.fromisoformat(as_of), "quarterly") == date.fromisoformat(anchor)
    assert model_anchor(date.fromisoformat(as_of), "every_run") == date.fromisoformat(as_of)


def test_an_unknown_cadence_is_refused():
    with pytest.raises(ValueError, match="retrain must be one of"):
        model_anchor(date(2025, 1, 31), "monthly")


def test_an_anchored_plan_trains_and_backtests_as_of_the_anchor_and_scores_as_of():
    anchored = plan_cutoffs(date(2025, 2, 28), 90, anchor=date(2024, 12, 31))
    at_anchor = plan_cutoffs(date(2024, 12, 31), 90)

    assert anchored.scoring == date(2025, 2, 28)
    assert anchored.trained_as_of == date(2024, 12, 31)
    assert (anchored.training, anchored.backtests) == (at_anchor.training, at_anchor.backtests)
    assert anchored.model_cutoffs == at_anchor.model_cutoffs
    assert anchored.all == [*at_anchor.model_cutoffs, date(2025, 2, 28)]
    assert date(2024, 12, 31) not in anchored.all  # the anchor itself is neither scored nor trained on


def test_an_anchor_after_as_of_is_refused_and_one_equal_to_it_is_no_anchor():
    with pytest.raises(ValueError, match="after the as_of"):
        plan_cutoffs(date(2025, 2, 28), 90, anchor=date(2025, 3, 31))
    assert plan_cutoffs(date(2025, 3, 31), 90, anchor=date(2025, 3, 31)) == plan_cutoffs(
        date(2025, 3, 31), 90
    )
