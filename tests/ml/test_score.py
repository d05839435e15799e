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


def test_top_drivers_text_is_python_formatting_of_the_values():
    """Formatted by DuckDB for speed: the same text as `%+.3f`, also at rounding edges and ties at zero."""
    contributions = np.zeros((3, len(MODEL_FEATURES)))
    contributions[0, [4, 7, 9]] = [0.0005, -0.0005, 0.0015]
    contributions[1, [2, 3]] = [-1e-9, 123.4565]
    values = contributions[0, [9, 4, 7]]
    assert top_drivers(contributions)[0] == "; ".join(
        f"{MODEL_FEATURES[i]} {v:+.3f}" for i, v in zip((9, 4, 7), values, strict=True)
    )
    # a tie (the zeros) goes to the first feature, as a stable sort orders it
    assert top_drivers(contributions)[1] == (
        f"{MODEL_FEATURES[3]} {123.4565:+.3f}; {MODEL_FEATURES[2]} {-1e-9:+.3f}; {MODEL_FEATURES[0]} +0.000"
    )
    assert top_drivers(contributions)[2].startswith(f"{MODEL_FEATURES[0]} +0.000; {MODEL_FEATURES[1]} ")
    assert top_drivers(np.zeros((0, len(MODEL_FEATURES)))) == []
