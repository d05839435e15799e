"""Two runs started at once on one warehouse: one waits for the writer lock or is refused clearly;
nothing is corrupted, and the warehouse ends as after a single run."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from tests.resilience.conftest import (
    RUN_TIMEOUT_SECONDS,
    Reference,
    Site,
    assert_same,
    fingerprints,
    results_only,
    start_driver,
)

BUSY_MESSAGE = "another cltv process is writing"


def run_both(site: Site, lock_timeout: str) -> list[tuple[int, str]]:
    processes = [
        start_driver(site, run_id, CLTV_LOCK_TIMEOUT_SECONDS=lock_timeout) for run_id in ("first", "second")
    ]
    outcomes = []
    for process in processes:
        try:
            output, _ = process.communicate(timeout=RUN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        outcomes.append((process.returncode, output))
    return outcomes


def assert_finished_or_refused_clearly(outcomes: list[tuple[int, str]]) -> int:
    """Each run finished, or stopped with WarehouseBusyError's message; the number that finished."""
    finished = 0
    for returncode, output in outcomes:
        if returncode == 0:
            assert output.rstrip().endswith("FINISHED")
            finished += 1
        else:
            assert "WarehouseBusyError" in output, output[-4000:]
            assert BUSY_MESSAGE in output, output[-4000:]
    return finished


def test_a_second_run_with_a_short_lock_timeout_is_refused_clearly(
    site_from: Callable[[str], Site], reference: Reference
) -> None:
    site = site_from("")

    outcomes = run_both(site, lock_timeout="1")

    assert assert_finished_or_refused_clearly(outcomes) >= 1
    assert_same(results_only(fingerprints(site)), results_only(reference.prints))


@pytest.mark.slow
def test_two_runs_with_the_default_lock_timeout_both_wait_their_turn(
    site_from: Callable[[str], Site], reference: Reference
) -> None:
    site = site_from("")

    outcomes = run_both(site, lock_timeout="600")

    assert assert_finished_or_refused_clearly(outcomes) == 2
    assert_same(results_only(fingerprints(site)), results_only(reference.prints))
