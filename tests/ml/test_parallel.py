import threading

from ml.config import N_JOBS, SINGLE_THREAD_ROWS
from ml.parallel import parallel_calls, parallel_map, threads_for


def test_calls_keep_their_order():
    assert parallel_calls([lambda: "a", lambda: "b", lambda: "c"]) == ["a", "b", "c"]


def test_the_default_map_runs_folds_side_by_side():
    # each fold waits for the other: run one after the other, the barrier would time out and break
    barrier = threading.Barrier(2, timeout=10)
    assert parallel_map(lambda n: (barrier.wait(), n)[1], [1, 2]) == [1, 2]


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
