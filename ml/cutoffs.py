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

The anchor. A run need not train as of its own as_of: with the `quarterly` cadence (the default) it serves
the model trained as of the last quarter end on or before as_of (`model_anchor`), and the rule above is
applied to that anchor: training cutoffs anchor - H, ..., backtests anchor - kH. The scoring cutoff stays
as_of. A monthly schedule then trains in the quarter's last month and reuses that model (cached by a key
of its training data, ml.cache) in the two months after it; the anchor depends on as_of alone, so a
backfill in any order serves each month the same model. `every_run` anchors every run at its as_of.

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
    anchor: date | None = None  # the date the model is trained as of; None: the scoring date

    @property
    def trained_as_of(self) -> date:
        return self.anchor or self.scoring

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

    @property
    def model_cutoffs(self) -> list[date]:
        """The cutoffs only training and backtesting read (not the scoring one), oldest first."""
        return [cutoff for cutoff in self.all if cutoff != self.scoring]


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


RETRAIN_CADENCES = ("quarterly", "every_run")
DEFAULT_RETRAIN = "quarterly"


def quarter_end_on_or_before(day: date) -> date:
    """The last day of the latest calendar quarter that ends on or before `day`."""
    if day.month % 3 == 0 and (day + timedelta(days=1)).month != day.month:
        return day
    first_of_quarter = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return first_of_quarter - timedelta(days=1)


def model_anchor(as_of: date, retrain: str = DEFAULT_RETRAIN) -> date:
    """The date a run's model is trained as of: as_of itself, or the last quarter end on or before it."""
    if retrain not in RETRAIN_CADENCES:
        raise ValueError(f"retrain must be one of {RETRAIN_CADENCES}, got {retrain!r}")
    return as_of if retrain == "every_run" else quarter_end_on_or_before(as_of)


def plan_cutoffs(
    as_of: date,
    horizon_days: int,
    n_training_cutoffs: int = 3,
    n_backtests: int = 3,
    anchor: date | None = None,
) -> CutoffPlan:
    """The scoring cutoff (as_of), and the training cutoffs and `n_backtests` out-of-time evaluations of a
    model trained as of `anchor` (default: as_of; never after it)."""
    if horizon_days <= 0 or n_training_cutoffs < 1 or n_backtests < 0:
        raise ValueError("horizon_days and n_training_cutoffs must be positive, n_backtests not negative")
    if anchor is not None and anchor > as_of:
        raise ValueError(f"the model's anchor {anchor} is after the as_of {as_of} it would score")
    trained_as_of = anchor or as_of
    horizon = timedelta(days=horizon_days)
    backtests = tuple(
        Backtest(cutoff=b, training=training_cutoffs(b, horizon_days, n_training_cutoffs))
        for b in (trained_as_of - k * horizon for k in range(1, n_backtests + 1))
    )
    return CutoffPlan(
        scoring=as_of,
        training=training_cutoffs(trained_as_of, horizon_days, n_training_cutoffs),
        backtests=backtests,
        anchor=anchor if anchor != as_of else None,
    )
