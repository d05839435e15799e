"""Independent fits side by side on the machine's cores, and how many threads each XGBoost call may use.

The ML stage is a few dozen small, independent fits (backtest folds, candidate configurations, BG/NBD per
cutoff). XGBoost on 20,000-30,000 rows is fastest on one thread (OpenMP's synchronisation costs more than a
second core saves), so the cores are used by running several single-threaded fits at once instead.
The maps are `cltv.parallel`'s (threads: XGBoost and numpy release the GIL). Every fit has its own seed and
one thread, so the results do not depend on which fit runs where or first: the stage stays deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from cltv import parallel
from cltv.parallel import inside_parallel_map
from ml.config import N_JOBS, SINGLE_THREAD_ROWS

T = TypeVar("T")
R = TypeVar("R")


def threads_for(rows: int) -> int:
    """XGBoost threads for a fit or prediction over `rows` rows: one inside a parallel map (the map already
    keeps every core busy; more threads than cores make OpenMP spin), else one below SINGLE_THREAD_ROWS."""
    if inside_parallel_map() or rows < SINGLE_THREAD_ROWS:
        return 1
    return N_JOBS


# Two fits per core at most: each is single-threaded, so three folds on two cores share them evenly (the
# slowest finishes after ~1.5 fold-times) instead of the third waiting for a free core (2 fold-times).
MAX_WORKERS = 2 * N_JOBS


def parallel_map(function: Callable[[T], R], items: Iterable[T], workers: int = MAX_WORKERS) -> list[R]:
    """[function(item) for item in items], `workers` at a time, in order; nested maps run sequentially."""
    return parallel.parallel_map(function, items, workers, name="cltv-ml")


def parallel_calls(jobs: Iterable[Callable[[], R]], workers: int = MAX_WORKERS) -> list[R]:
    """Call each zero-argument job, `workers` at a time (as parallel_map); the results in the jobs' order."""
    return parallel_map(_call, jobs, workers)


def _call(job: Callable[[], R]) -> R:
    return job()
