"""Which cutoff dates a run needs features for: the one it scores, the ones it trains on, and its backtests.

The rule. A run closing `as_of` = T with horizon H scores customers with features as of T. It trains on
earlier cutoffs whose label window (c, c + H] lies inside what the run may see (c + H <= T):
T - H, T - 2H, ..., T - nH. When history allows, the cutoff a year before T joins them, so the training
labels cover the same season as the forecast (retail has a strong Q4; a model trained on recent windows
alone under-forecasts it). That seasonal cutoff is the whole number of horizons nearest a year before T
when it is within a week of it (4 x 90 = 360 days, 12 x 30, 2 x 180), else T - 1 year exactly: its label
window covers the same season within days, and it is then one of the cutoffs the backtests build anyway.
With H = 90, three training cutoffs and three backtests a run builds 8 cutoffs instead of 11, and every
cutoff costs features over all customers and their history (at 100M lines ~3 s of SQL each, plus its
publication and reads). The latest training cutoff (T - H) is the validation cutoff: hyper-parameters
and early stopping are chosen on it, with the model fitted on the older ones.

Backtests replay that rule in the past: evaluation cutoff b_k = T - kH (k = 1..n_backtests) is scored by
a model trained on the training cutoffs `plan(b_k)` would use (b_k - H, b_k - 2H, ..., and the seasonal one),
whose labels end by b_k. So every backtest is out of time: nothing its model sees is dated after b_k, and
b_k's own label window ends by T.

`all` is every cutoff dbt must build features (and labels) for, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Backtest:
    """One out-of-time evaluation: train on `training` (labels end by `cutoff`), test on `cutoff`."""

    cutoff: date
    training: tuple[date, ...]


@dataclass(frozen=True)
class CutoffPlan:
    scoring: date
    training: tuple[date, ...]
    backtests: tuple[Backtest, ...] = ()

    @property
    def validation(self) -> date:
        """The latest training cutoff: the one hyper-parameters are chosen on."""
        return max(self.training)

    @property
    def all(self) -> list[date]:
        """Every cutoff dbt must build features for, oldest first."""
        cutoffs = {self.scoring, *self.training}
        for backtest in self.backtests:
            cutoffs.update({backtest.cutoff, *backtest.training})
        return sorted(cutoffs)


def one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


SEASONAL_TOLERANCE_DAYS = 7


def seasonal_cutoff(as_of: date, horizon_days: int) -> date:
    """A year before as_of: the whole number of horizons nearest it if within a week, else exactly a year."""
    year_before = one_year_before(as_of)
    steps = round((as_of - year_before).days / horizon_days)
    on_grid = as_of - steps * timedelta(days=horizon_days)
    if steps >= 1 and abs((on_grid - year_before).days) <= SEASONAL_TOLERANCE_DAYS:
        return on_grid
    return year_before


def training_cutoffs(as_of: date, horizon_days: int, n_training_cutoffs: int) -> tuple[date, ...]:
    """as_of - H, ..., as_of - nH, plus the seasonal cutoff when its label window ends by as_of."""
    horizon = timedelta(days=horizon_days)
    training = {as_of - k * horizon for k in range(1, n_training_cutoffs + 1)}
    seasonal = seasonal_cutoff(as_of, horizon_days)
    if seasonal + horizon <= as_of:
        training.add(seasonal)
    return tuple(sorted(training))


def plan_cutoffs(
    as_of: date, horizon_days: int, n_training_cutoffs: int = 3, n_backtests: int = 3
) -> CutoffPlan:
    """The scoring cutoff (as_of), the training cutoffs, and `n_backtests` out-of-time evaluations."""
    if horizon_days <= 0 or n_training_cutoffs < 1 or n_backtests < 0:
        raise ValueError("horizon_days and n_training_cutoffs must be positive, n_backtests not negative")
    horizon = timedelta(days=horizon_days)
    backtests = tuple(
        Backtest(cutoff=b, training=training_cutoffs(b, horizon_days, n_training_cutoffs))
        for b in (as_of - k * horizon for k in range(1, n_backtests + 1))
    )
    return CutoffPlan(
        scoring=as_of,
        training=training_cutoffs(as_of, horizon_days, n_training_cutoffs),
        backtests=backtests,
    )
