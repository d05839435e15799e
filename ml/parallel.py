"""Independent fits side by side on the machine's cores, and how many threads each XGBoost call may use.

The ML stage is a few dozen small, independent fits (backtest folds, candidate configurations, BG/NBD per
cutoff). XGBoost on 20,000-30,000 rows is fastest on one thread (OpenMP's synchronisation costs more than a
second core saves), so the cores are used by running several single-threaded fits at once instead.
Threads, not processes: XGBoost (through ctypes) and numpy release the GIL while they compute, nothing is
pickled, and no process holding DuckDB's and OpenMP's threads is forked. Every fit has its own seed and one
thread, so the results do not depend on which fit runs where or first: the stage stays deterministic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ml.config import N_JOBS, SINGLE_THREAD_ROWS

T = TypeVar("T")
R = TypeVar("R")

_worker = threading.local()


def threads_for(rows: int) -> int:
    """XGBoost threads for a fit or prediction over `rows` rows: one inside a parallel map (the map already
    keeps every core busy; more threads than cores make OpenMP spin), else one below SINGLE_THREAD_ROWS."""
    if getattr(_worker, "inside", False) or rows < SINGLE_THREAD_ROWS:
        return 1
    return N_JOBS


def in_worker(function: Callable[[T], R]) -> Callable[[T], R]:
    """`function` marked as running inside a parallel map, so that nested work stays on one thread."""

    def run(item: T) -> R:
        outer = getattr(_worker, "inside", False)
        _worker.inside = True
        try:
            return function(item)
        finally:
            _worker.inside = outer

    return run


# Two fits per core at most: each is single-threaded, so three folds on two cores share them evenly (the
# slowest finishes after ~1.5 fold-times) instead of the third waiting for a free core (2 fold-times).
MAX_WORKERS = 2 * N_JOBS


def parallel_map(function: Callable[[T], R], items: Iterable[T], workers: int = MAX_WORKERS) -> list[R]:
    """[function(item) for item in items], `workers` at a time, results in the items' order.

    Inside another parallel_map (a fold whose search would map its candidates) it runs sequentially: the
    outer map already occupies every core. The first exception is raised once every started call ended.
    """
    items = list(items)
    if workers < 2 or len(items) < 2 or getattr(_worker, "inside", False):
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="cltv-ml") as pool:
        return list(pool.map(in_worker(function), items))


def parallel_calls(jobs: Iterable[Callable[[], R]], workers: int = MAX_WORKERS) -> list[R]:
    """Call each zero-argument job, `workers` at a time (as parallel_map); the results in the jobs' order."""
    return parallel_map(_call, jobs, workers)


def _call(job: Callable[[], R]) -> R:
    return job()
