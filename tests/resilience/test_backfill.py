"""A backfill of three run dates, in order and out of order, ends in the same state.

Out of order is 2024-02-28, 2023-11-30, 2024-06-30: the last run is the same in both, so the tables of the
current as_of (rfm_segments, the reports) must match too, not only the tables keyed by as_of. 2023-11-30 is
one horizon (90 days) before 2024-02-28, the case where order could matter: the later run trains on the
earlier one's as_of cutoff (labelled for it, unlabelled for the earlier run) and judges the earlier run's
predictions (which do not exist yet when it runs first).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.resilience.conftest import (
    Site,
    assert_same,
    copy_site,
    fingerprints,
    results_only,
    run_driver,
    scalar,
)

pytestmark = pytest.mark.slow

IN_ORDER = ("2023-11-30", "2024-02-28", "2024-06-30")
OUT_OF_ORDER = ("2024-02-28", "2023-11-30", "2024-06-30")


def backfill(site: Site, as_ofs: tuple[str, ...]) -> None:
    for as_of in as_ofs:
        run_driver(site, f"backfill-{as_of}", as_of=as_of)


def test_backfill_in_order_and_out_of_order_end_in_the_same_state(
    site_from: Callable[[str], Site], tmp_path: Path
) -> None:
    in_order = site_from("ingest")  # every landing file loaded; each run's ingest then skips them all
    out_of_order = copy_site(in_order, tmp_path / "out_of_order")

    backfill(in_order, IN_ORDER)
    backfill(out_of_order, OUT_OF_ORDER)

    history = "select list(distinct as_of_date order by as_of_date)::varchar[] from gold.rfm_segment_history"
    assert scalar(in_order, history) == list(IN_ORDER)
    judged = "select count(*) from gold.model_performance_history where prediction_as_of = '2023-11-30'"
    assert scalar(in_order, judged) > 0
    assert_same(results_only(fingerprints(out_of_order)), results_only(fingerprints(in_order)))
