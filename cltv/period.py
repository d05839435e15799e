"""The business period a run closes: its `as_of` date, resolved and validated from the run's dates.

Airflow 3 gives cron-scheduled runs a zero-width data interval, so the period is not taken from the
interval: a run either names its `as_of` explicitly, or closes the last whole month (or quarter) that
ended before the run's logical date. Nothing here reads the wall clock.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

Period = Literal["month", "quarter"]
PERIODS: tuple[Period, ...] = ("month", "quarter")

MIN_HORIZON_DAYS = 7
MAX_HORIZON_DAYS = 730


class PeriodError(ValueError):
    """A run parameter names an impossible period; the message says which and why."""


def start_of_period(day: date, period: Period) -> date:
    if period == "month":
        return day.replace(day=1)
    first_month_of_quarter = 3 * ((day.month - 1) // 3) + 1
    return date(day.year, first_month_of_quarter, 1)


def default_as_of(run_date: date, period: Period = "month") -> date:
    """The last day of the last whole period before `run_date`: a run on 2011-12-01 closes 2011-11-30."""
    if period not in PERIODS:
        raise PeriodError(f"period must be one of {PERIODS}, got {period!r}")
    return start_of_period(run_date, period) - timedelta(days=1)


def parse_as_of(value: str | date) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError(f"as_of must be an ISO date (YYYY-MM-DD), got {value!r}") from None


def resolve_as_of(explicit: str | date | None, run_date: date, period: Period = "month") -> date:
    """The run's `as_of`: the explicit one if given (never after the run's own date), else the default."""
    if explicit in (None, ""):
        return default_as_of(run_date, period)
    as_of = parse_as_of(explicit)
    if as_of > run_date:
        raise PeriodError(
            f"as_of {as_of} is after the run's date {run_date}: a run cannot close a period not yet ended"
        )
    return as_of


def validate_horizon(horizon_days: int) -> int:
    if not MIN_HORIZON_DAYS <= horizon_days <= MAX_HORIZON_DAYS:
        raise PeriodError(
            f"horizon_days must be between {MIN_HORIZON_DAYS} and {MAX_HORIZON_DAYS}, got {horizon_days}"
        )
    return horizon_days
