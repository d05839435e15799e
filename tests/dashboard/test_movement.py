"""The tier transition matrix and revenue by tier on the tiny shop."""

from __future__ import annotations

import pandas as pd

from cltv.config import Settings
from dashboard import data
from dashboard.movement import movement, transition_counts, transition_shares
from tests.dashboard.conftest import AS_OF, HORIZON, TIER_THRESHOLDS


def test_counts_go_from_current_tier_to_predicted_tier(tiny_publication: Settings):
    moves = data.read(lambda con: movement(con, AS_OF), tiny_publication)

    assert (moves.thresholds, moves.horizon_days) == (TIER_THRESHOLDS, HORIZON)
    assert list(moves.counts.index) == ["none", "low", "mid", "high"]
    assert moves.counts.to_numpy().tolist() == [
        [1, 0, 0, 1],  # D none -> none, E none -> high
        [1, 1, 0, 0],  # G low -> none, C low -> low
        [0, 1, 1, 0],  # B mid -> low, F mid -> mid
        [0, 0, 0, 1],  # A high -> high
    ]
    assert moves.shares.loc["none"].tolist() == [0.5, 0.0, 0.0, 0.5]
    assert moves.shares.loc["high"].tolist() == [0.0, 0.0, 0.0, 1.0]


def test_revenue_by_tier_sets_last_period_by_current_tier_beside_predicted_by_predicted_tier(
    tiny_publication: Settings,
):
    moves = data.read(lambda con: movement(con, AS_OF), tiny_publication)
    revenue = moves.revenue.set_index("tier")

    assert revenue["last_period_revenue"].to_dict() == {
        "none": 0.0,
        "low": 350.0,
        "mid": 550.0,
        "high": 1000.0,
    }
    assert revenue["predicted_revenue"].to_dict() == {
        "none": 50.0,
        "low": 220.0,
        "mid": 250.0,
        "high": 1400.0,
    }


def test_an_empty_tier_is_a_row_of_zeros_not_missing():
    base = pd.DataFrame({"current_tier": ["high", "high", "low"], "predicted_tier": ["high", "none", "low"]})
    counts = transition_counts(base)
    shares = transition_shares(counts)

    assert counts.loc["mid"].tolist() == [0, 0, 0, 0]
    assert shares.loc["mid"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert shares.loc["high"].tolist() == [0.5, 0.0, 0.0, 0.5]
