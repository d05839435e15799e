"""How long a phase took, in the log: a run's log (and the bench log) shows where the time goes."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def timed(logger: logging.Logger, phase: str) -> Iterator[None]:
    """Log `<phase>: <seconds> s` at INFO when the block ends (not when it raises: the error says more)."""
    started = time.perf_counter()
    yield
    logger.info("%s: %.1f s", phase, time.perf_counter() - started)
