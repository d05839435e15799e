import threading

import pytest

from cltv.parallel import inside_parallel_map, parallel_map


def test_results_keep_the_items_order():
    assert parallel_map(lambda n: n * n, range(7), workers=3) == [0, 1, 4, 9, 16, 25, 36]


def test_calls_really_run_side_by_side():
    # each call waits for the other: run one after the other, the barrier would time out and break
    barrier = threading.Barrier(2, timeout=10)
    assert parallel_map(lambda n: (barrier.wait(), n)[1], [1, 2], workers=2) == [1, 2]


def test_one_worker_runs_in_the_callers_thread():
    caller = threading.get_ident()
    assert parallel_map(lambda _: threading.get_ident(), range(3), workers=1) == [caller] * 3


def test_an_exception_reaches_the_caller():
    def fail_on_two(n: int) -> int:
        if n == 2:
            raise ValueError("item 2 failed")
        return n

    with pytest.raises(ValueError, match="item 2 failed"):
        parallel_map(fail_on_two, [1, 2, 3], workers=2)


def test_a_map_inside_a_map_runs_in_the_outer_worker():
    def inner(_: int) -> tuple[bool, list[bool]]:
        worker = threading.get_ident()
        nested = parallel_map(lambda _: threading.get_ident(), range(3), workers=2)
        return inside_parallel_map(), [ident == worker for ident in nested]

    assert parallel_map(inner, range(2), workers=2) == [(True, [True] * 3)] * 2
    assert not inside_parallel_map()  # the caller's thread is not marked
