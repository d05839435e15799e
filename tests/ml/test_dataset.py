from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from cltv.warehouse import connect
from ml.config import FEATURES
from ml.dataset import labelled_counts, load_labelled, load_scoring, load_scoring_batches
from tests.ml.conftest import build_shop

CUTOFFS = [date(2010, 12, 13), date(2011, 3, 13), date(2011, 6, 11), date(2011, 9, 9)]


def test_reads_only_the_requested_cutoffs_labels_of_this_horizon_as_float32(settings):
    build_shop(settings, n_customers=300, cutoffs=CUTOFFS)
    with connect(settings) as con:  # a row of another horizon must never be read as a label
        con.execute("update gold.customer_features set horizon_days = 30 where cutoff_date = '2011-03-13'")
    with connect(settings, read_only=True) as con:
        counts = labelled_counts(con, CUTOFFS, 90)
        frame = load_labelled(con, CUTOFFS[:3], 90)
    assert set(counts) == {date(2010, 12, 13), date(2011, 6, 11)}  # 2011-09-09 has no label yet
    assert set(frame["cutoff_date"]) == {date(2010, 12, 13), date(2011, 6, 11)}
    assert all(frame[name].dtype == np.float32 for name in FEATURES)
    assert (frame["label_revenue"] >= 0).all()
    assert len(frame) == sum(rows for rows, _ in counts.values())


def test_a_sample_is_deterministic_and_keeps_whole_customers(settings):
    build_shop(settings, n_customers=400, cutoffs=CUTOFFS)
    with connect(settings, read_only=True) as con:
        full = load_labelled(con, CUTOFFS[:3], 90)
        first = load_labelled(con, CUTOFFS[:3], 90, max_rows=len(full) // 2)
        second = load_labelled(con, CUTOFFS[:3], 90, max_rows=len(full) // 2)
    pd.testing.assert_frame_equal(first, second)
    assert 0.3 * len(full) < len(first) < 0.7 * len(full)
    kept = set(first["customer_id"])
    assert len(full[full["customer_id"].isin(kept)]) == len(first)


def test_scoring_batches_cover_every_customer_once(settings):
    build_shop(settings, n_customers=300, cutoffs=CUTOFFS)
    with connect(settings, read_only=True) as con:
        whole = load_scoring(con, date(2011, 9, 9))
        batches = list(load_scoring_batches(con, date(2011, 9, 9), batch_rows=70))
    assert len(batches) > 1
    assert max(len(b) for b in batches) <= 70
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), whole)
