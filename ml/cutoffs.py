"""Which cutoff dates a run needs features for: the one it scores, and the past ones it trains on.

A run closing `as_of` = T with horizon H scores customers with features as of T. It trains on earlier
cutoffs whose label window (c, c + H] lies inside what the run may see (c + H <= T): T - H, T - 2H, ...
When history allows, the cutoff one year before T joins them, so the training labels cover the same
season as the forecast (retail has a strong Q4; a model trained on recent windows alone under-forecasts it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class CutoffPlan:
    scoring: date
    training: tuple[date, ...]

    @property
    def all(self) -> list[date]:
        """Every cutoff dbt must build features for, oldest first."""
        return sorted({self.scoring, *self.training})


def one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def plan_cutoffs(as_of: date, horizon_days: int, n_training_cutoffs: int = 3) -> CutoffPlan:
    """The scoring cutoff (as_of) and the training cutoffs, each with a label window inside as_of."""
    if horizon_days <= 0 or n_training_cutoffs < 1:
        raise ValueError("horizon_days and n_training_cutoffs must be positive")
    horizon = timedelta(days=horizon_days)
    training = {as_of - k * horizon for k in range(1, n_training_cutoffs + 1)}
    seasonal = one_year_before(as_of)
    if seasonal + horizon <= as_of:
        training.add(seasonal)
    return CutoffPlan(scoring=as_of, training=tuple(sorted(training)))
