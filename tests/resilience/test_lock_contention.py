"""A stage started while another cltv process uses the warehouse waits its turn or stops with
WarehouseBusyError's clear message, whichever side reads and whichever writes.

Deterministic: this test process holds the warehouse (a writer connection, or a read-only one as the ML
stage and publish open) while the driver runs one stage with a 2 s lock timeout.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from cltv.config import PROJECT_ROOT
from cltv.warehouse import connect
from tests.resilience.conftest import RUN_TIMEOUT_SECONDS, Site, driver_command

BUSY_MESSAGE = "another cltv process is writing"


def run_stage_while_held(site: Site, stage: str, *, held_read_only: bool) -> subprocess.CompletedProcess[str]:
    with connect(site.settings, read_only=held_read_only):
        return subprocess.run(
            driver_command("2024-06-30", "contender", stage),
            cwd=PROJECT_ROOT,
            env=site.env(CLTV_LOCK_TIMEOUT_SECONDS="2"),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
        )


@pytest.mark.parametrize(
    ("stage", "held_read_only", "after"),
    [
        ("ml", False, "dbt"),  # the ML stage reads features while another process writes
        ("publish", False, "ml"),  # publish copies gold while another process writes
        ("dbt", True, "ingest"),  # dbt writes while another cltv process reads
    ],
)
def test_a_stage_meeting_another_process_is_refused_with_the_clear_message(
    site_from: Callable[[str], Site], stage: str, held_read_only: bool, after: str
) -> None:
    site = site_from(after)

    result = run_stage_while_held(site, stage, held_read_only=held_read_only)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "WarehouseBusyError" in output, output[-3000:]
    assert BUSY_MESSAGE in output, output[-3000:]


def test_a_writing_stage_meeting_another_writer_is_refused_with_the_clear_message(
    site_from: Callable[[str], Site],
) -> None:
    site = site_from("")

    result = run_stage_while_held(site, "ingest", held_read_only=False)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "WarehouseBusyError" in output, output[-3000:]
    assert BUSY_MESSAGE in output, output[-3000:]
