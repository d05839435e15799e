from __future__ import annotations

import numpy as np

from ml.config import MODEL_FEATURES
from ml.score import top_drivers


def test_top_drivers_names_the_three_largest_contributions_by_absolute_value():
    contributions = np.zeros((2, len(MODEL_FEATURES)))
    contributions[0, [0, 1, 2, 3]] = [0.1, -0.9, 0.5, 0.3]
    contributions[1, 5] = 2.0
    drivers = top_drivers(contributions)
    assert drivers[0] == f"{MODEL_FEATURES[1]} -0.900; {MODEL_FEATURES[2]} +0.500; {MODEL_FEATURES[3]} +0.300"
    assert drivers[1].startswith(f"{MODEL_FEATURES[5]} +2.000; ")
