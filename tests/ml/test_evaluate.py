from __future__ import annotations

import math

import numpy as np
import pytest

from ml import evaluate


def test_normalized_gini_against_hand_values():
    actual = [0, 1, 2, 3]
    assert evaluate.normalized_gini(actual, [0.0, 1.0, 2.0, 3.0]) == pytest.approx(1.0)
    assert evaluate.normalized_gini(actual, [3.0, 2.0, 1.0, 0.0]) == pytest.approx(-1.0)
    # ranked 3, 1, 2, 0: cumulative shares .5, .667, 1, 1 -> (3.1667 / 4 - 5 / 8) / (3.3333 / 4 - 5 / 8) = 0.8
    assert evaluate.normalized_gini(actual, [0.0, 0.9, 0.5, 1.0]) == pytest.approx(0.8)


def test_gini_of_a_constant_prediction_is_zero_whatever_the_order():
    assert evaluate.normalized_gini([5, 0, 0, 1], [2.0] * 4) == pytest.approx(0.0)
    assert evaluate.normalized_gini([0, 0, 1, 5], [2.0] * 4) == pytest.approx(0.0)
    assert math.isnan(evaluate.normalized_gini([0, 0], [1.0, 2.0]))


def test_spearman_rmse_rmsle_and_mae_log1p_against_hand_values():
    assert evaluate.spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)  # 1 - 6 * 2 / 60
    assert evaluate.rmse([0, 10], [3, 6]) == pytest.approx(math.sqrt(12.5))
    e = math.e - 1
    assert evaluate.rmsle([0, e], [e, e]) == pytest.approx(math.sqrt(0.5))
    assert evaluate.mae_log1p([0, e], [e, e]) == pytest.approx(0.5)


def test_spearman_gives_tied_values_their_mean_rank():
    # average ranks (1, 2.5, 2.5, 4) against (1.5, 1.5, 3, 4); Spearman is the Pearson correlation of them
    actual, predicted = [0, 5, 5, 9], [1, 1, 2, 3]
    ranks_a, ranks_p = [1, 2.5, 2.5, 4], [1.5, 1.5, 3, 4]
    expected = sum((a - 2.5) * (p - 2.5) for a, p in zip(ranks_a, ranks_p, strict=True)) / math.sqrt(
        sum((a - 2.5) ** 2 for a in ranks_a) * sum((p - 2.5) ** 2 for p in ranks_p)
    )
    assert evaluate.spearman(actual, predicted) == pytest.approx(expected)
    assert math.isnan(evaluate.spearman(actual, [2.0] * 4))  # a constant prediction ranks nothing


def test_top_share_counts_the_realised_revenue_of_the_best_ranked_customers():
    actual = [10, 0, 0, 0, 0, 0, 0, 0, 0, 90]
    predicted = [8, 1, 1, 1, 1, 1, 1, 1, 1, 9]
    assert evaluate.top_share(actual, predicted, 0.10) == pytest.approx(0.9)
    assert evaluate.top_share(actual, predicted, 0.20) == pytest.approx(1.0)


def test_decile_calibration_means():
    values = np.arange(1, 21, dtype=float)
    deciles = evaluate.decile_calibration(values, values)
    assert deciles[0] == (1, 1.5, 1.5)
    assert deciles[-1] == (10, 19.5, 19.5)
    metrics = evaluate.regression_metrics(values, values * 2)
    assert metrics["decile_10_predicted"] == pytest.approx(39.0)
    assert metrics["decile_10_actual"] == pytest.approx(19.5)
    without = evaluate.regression_metrics(values, values * 2, deciles=False)
    assert without == {name: value for name, value in metrics.items() if not name.startswith("decile_")}


def test_classifier_metrics_against_hand_values():
    probabilities = np.full((4, 4), 0.1)
    for row, predicted in enumerate([0, 1, 2, 2]):
        probabilities[row, predicted] = 0.7
    metrics = evaluate.classifier_metrics([0, 1, 2, 3], probabilities)
    assert metrics["tier_accuracy"] == pytest.approx(0.75)
    assert metrics["tier_macro_f1"] == pytest.approx((1 + 1 + 2 / 3 + 0) / 4)
    assert metrics["tier_log_loss"] == pytest.approx(-(3 * math.log(0.7) + math.log(0.1)) / 4)
    assert metrics["confusion_high_mid"] == 1.0
    assert metrics["confusion_high_high"] == 0.0
    assert metrics["confusion_none_none"] == 1.0


def test_champion_rule_needs_better_ranking_than_both_baselines_and_better_rmse_than_naive():
    good = {"gini": 0.8, "spearman": 0.6, "rmse": 10.0}
    naive = {"gini": 0.7, "spearman": 0.5, "rmse": 12.0}
    bgnbd = {"gini": 0.75, "spearman": 0.55, "rmse": 9.0}
    assert evaluate.beats_baselines({"xgboost": good, "naive": naive, "bgnbd": bgnbd}) is True
    worse_rmse = {**good, "rmse": 13.0}
    assert evaluate.beats_baselines({"xgboost": worse_rmse, "naive": naive, "bgnbd": bgnbd}) is False
    worse_rank = {**good, "spearman": 0.52}
    assert evaluate.beats_baselines({"xgboost": worse_rank, "naive": naive, "bgnbd": bgnbd}) is False
    # a baseline that could not be fitted is left out; nothing to compare with gives no verdict
    assert evaluate.beats_baselines({"xgboost": good, "naive": naive}) is True
    assert evaluate.beats_baselines({"xgboost": good}) is None


def test_the_champion_is_xgboost_when_it_wins_else_the_baseline_with_the_better_gini():
    naive = {"gini": 0.7, "spearman": 0.5, "rmse": 12.0}
    bgnbd = {"gini": 0.75, "spearman": 0.55, "rmse": 9.0}
    assert (
        evaluate.champion(
            {"xgboost": {"gini": 0.8, "spearman": 0.6, "rmse": 10.0}, "naive": naive, "bgnbd": bgnbd}
        )
        == "xgboost"
    )
    losing = {"gini": 0.74, "spearman": 0.6, "rmse": 10.0}
    assert evaluate.champion({"xgboost": losing, "naive": naive, "bgnbd": bgnbd}) == "bgnbd"
    assert evaluate.champion({"xgboost": losing, "naive": {**naive, "gini": 0.9}, "bgnbd": bgnbd}) == "naive"
    assert evaluate.champion({"xgboost": losing}) is None
