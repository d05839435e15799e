"""A month that reuses its quarter's cached model leaves the warehouse a month that retrains it would.

The default cadence trains as of the last quarter end (2024-03-31 for April 2024) and caches the model by a
key of its training data; April then builds no training features and loads the model. The same April on a
copy of the warehouse without the cache retrains: both must end with the same bronze and gold, row for row.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.resilience.conftest import (
    Site,
    assert_same,
    copy_site,
    fingerprints,
    run_driver,
    stage_line,
)

pytestmark = pytest.mark.slow


def ml_result(output: str) -> dict:
    return json.loads(stage_line(output, "ml")[3])


def test_a_month_served_from_the_cache_ends_as_the_same_month_retrained(
    site_from: Callable[[str], Site], tmp_path: Path
) -> None:
    warm = site_from("ingest")
    quarter = ml_result(run_driver(warm, "march", as_of="2024-03-31"))
    cold = copy_site(warm, tmp_path / "cold")
    shutil.rmtree(cold.settings.models_dir / "cache")

    reused = ml_result(run_driver(warm, "april", as_of="2024-04-30"))
    retrained = ml_result(run_driver(cold, "april", as_of="2024-04-30"))

    assert (quarter["model_from_cache"], quarter["trained_as_of"]) == (False, "2024-03-31")
    assert (reused["model_from_cache"], retrained["model_from_cache"]) == (True, False)
    assert reused["model_version"] == retrained["model_version"] == quarter["model_version"]
    assert reused["status"] == "trained"
    assert_same(fingerprints(warm), fingerprints(cold))  # the run logs too: one history, two ways
