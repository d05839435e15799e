"""Phase timings in the log."""

from __future__ import annotations

import logging
import re

import pytest

from cltv.timing import timed

log = logging.getLogger("cltv.test_timing")


def test_a_phase_logs_its_seconds(caplog):
    with caplog.at_level(logging.INFO, logger=log.name), timed(log, "publish: hashing gold"):
        pass
    assert re.fullmatch(r"publish: hashing gold: \d+\.\d s", caplog.messages[-1])


def test_a_phase_that_fails_logs_no_seconds(caplog):
    with (
        caplog.at_level(logging.INFO, logger=log.name),
        pytest.raises(ValueError, match="no gold"),
        timed(log, "publish: hashing gold"),
    ):
        raise ValueError("no gold")
    assert caplog.messages == []
