from __future__ import annotations

from datetime import date

import pytest

from cltv.period import PeriodError, default_as_of, resolve_as_of, validate_horizon


@pytest.mark.parametrize(
    ("run_date", "period", "expected"),
    [
        (date(2011, 12, 1), "month", date(2011, 11, 30)),
        (date(2011, 12, 15), "month", date(2011, 11, 30)),
        (date(2012, 1, 1), "month", date(2011, 12, 31)),
        (date(2012, 3, 1), "month", date(2012, 2, 29)),
        (date(2011, 10, 1), "quarter", date(2011, 9, 30)),
        (date(2011, 12, 9), "quarter", date(2011, 9, 30)),
        (date(2012, 1, 1), "quarter", date(2011, 12, 31)),
    ],
)
def test_default_as_of_closes_the_last_whole_period(run_date, period, expected):
    assert default_as_of(run_date, period) == expected


def test_an_explicit_as_of_wins_and_may_lie_far_in_the_past():
    assert resolve_as_of("2011-12-09", date(2026, 11, 22)) == date(2011, 12, 9)


@pytest.mark.parametrize(
    ("as_of", "message"),
    [("2011-12-31", "after the run's date"), ("09/12/2011", "ISO date"), ("2011-02-30", "ISO date")],
)
def test_impossible_as_of_is_refused_with_the_reason(as_of, message):
    with pytest.raises(PeriodError, match=message):
        resolve_as_of(as_of, date(2011, 12, 10))


def test_horizon_bounds():
    assert validate_horizon(90) == 90
    with pytest.raises(PeriodError, match="horizon_days"):
        validate_horizon(3)
