import threading

import pytest

from ml.config import N_JOBS, SINGLE_THREAD_ROWS
from ml.parallel import parallel_calls, parallel_map, threads_for


def test_results_keep_the_items_order():
    assert parallel_map(lambda n: n * n, range(7)) == [0, 1, 4, 9, 16, 25, 36]
    assert parallel_calls([lambda: "a", lambda: "b", lambda: "c"]) == ["a", "b", "c"]


def test_jobs_really_run_side_by_side():
    # each job waits for the other: run one after the other, the barrier would time out and break
    barrier = threading.Barrier(2, timeout=10)
    assert parallel_map(lambda n: (barrier.wait(), n)[1], [1, 2]) == [1, 2]


def test_one_worker_runs_in_the_callers_thread():
    caller = threading.get_ident()
    assert parallel_map(lambda _: threading.get_ident(), range(3), workers=1) == [caller] * 3


def test_an_exception_reaches_the_caller():
    def fail_on_two(n: int) -> int:
        if n == 2:
            raise ValueError("fold 2 failed")
        return n

    with pytest.raises(ValueError, match="fold 2 failed"):
        parallel_map(fail_on_two, [1, 2, 3])


def test_a_fit_inside_a_worker_gets_one_thread_and_nested_maps_run_in_that_worker():
    large = SINGLE_THREAD_ROWS * 10
    assert threads_for(large) == N_JOBS
    assert threads_for(SINGLE_THREAD_ROWS - 1) == 1

    def inner(_: int) -> tuple[int, list[int]]:
        worker = threading.get_ident()
        nested = parallel_map(lambda _: threading.get_ident(), range(3))
        return threads_for(large), [ident == worker for ident in nested]

    for threads, same_thread in parallel_map(inner, range(2)):
        assert threads == 1
        assert same_thread == [True, True, True]
    assert threads_for(large) == N_JOBS  # the caller's thread is not marked
