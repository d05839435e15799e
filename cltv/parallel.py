"""Independent calls side by side on threads, results in order, never nested.

Threads, not processes: the work handed to them (DuckDB queries, XGBoost fits, numpy) releases the GIL while
it computes, nothing is pickled, and no process holding DuckDB's or OpenMP's threads is forked. Used by
ingestion (files on their own cursors) and by the ML stage (folds, candidates, baselines).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_worker = threading.local()


def inside_parallel_map() -> bool:
    """True in a thread running one of parallel_map's calls (such work should stay on one core)."""
    return getattr(_worker, "inside", False)


def in_worker(function: Callable[[T], R]) -> Callable[[T], R]:
    """`function` marked as running inside a parallel map, so that nested work stays on one thread."""

    def run(item: T) -> R:
        outer = inside_parallel_map()
        _worker.inside = True
        try:
            return function(item)
        finally:
            _worker.inside = outer

    return run


def parallel_map(
    function: Callable[[T], R], items: Iterable[T], workers: int, *, name: str = "cltv"
) -> list[R]:
    """[function(item) for item in items], `workers` at a time, results in the items' order.

    Inside another parallel_map (a fold whose search would map its candidates) it runs sequentially: the
    outer map already occupies every core. The first exception is raised once every started call ended.
    """
    items = list(items)
    if workers < 2 or len(items) < 2 or inside_parallel_map():
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix=name) as pool:
        return list(pool.map(in_worker(function), items))
