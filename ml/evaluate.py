"""Metrics of revenue predictions and tier probabilities, and the champion rule.

Regression metrics compare a prediction with the realised net revenue of the label window, floored at 0
(a customer who only returned goods is worth nothing, not less). They answer the questions marketing asks:
does the ranking find the valuable customers (normalized Gini, Spearman, top-10%/20% capture), and are the
amounts right (RMSE in money, RMSLE and MAE on log1p for the typical customer, decile calibration)?

Champion rule: XGBoost is the champion when, averaged over the out-of-time backtests, its normalized Gini
and its Spearman correlation are higher than both baselines' (naive and BG/NBD) and its RMSE is lower than
the naive baseline's; otherwise the champion is the baseline with the higher mean Gini. Ranking is what
the predictions are used for; RMSE against naive guards against a model that ranks well but whose
amounts are useless. A run whose XGBoost is not the champion still publishes XGBoost's predictions (with
the baselines beside them) but says so: a WARNING in the log, `beat_baselines = false` and the champion
baseline's name in gold.model_runs, so a reader knows which column to use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss

from ml.config import TIERS

CHAMPION_MODEL = "xgboost"
BASELINE_MODELS = ("naive", "bgnbd")


@dataclass(frozen=True)
class _Ranking:
    """One array sorted once, largest first (ties in input order), with its runs of equal values.

    Gini, Spearman and the top shares all rank the same arrays; sorting each once instead of per metric
    (nine sorts per call) takes judging 760,000 predictions from ~0.7 s to ~0.3 s per model, which a
    monthly run does for every model and matured prediction date.
    """

    order: np.ndarray  # positions, largest value first
    starts: np.ndarray  # where each run of equal values begins, in sorted positions
    counts: np.ndarray  # the length of each run

    @classmethod
    def of(cls, values: np.ndarray) -> _Ranking:
        order = np.argsort(-values, kind="stable")
        ranked = values[order]
        starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
        return cls(order, starts, np.diff(np.append(starts, values.size)))

    def tie_means(self, actual: np.ndarray) -> np.ndarray:
        """`actual` in this ranking's order, each run of tied values replaced by the run's mean."""
        sums = np.add.reduceat(actual[self.order], self.starts) if actual.size else actual
        return np.repeat(sums / self.counts, self.counts)

    def average_ranks(self) -> np.ndarray:
        """Rank of each position (1 = largest), ties sharing their mean rank."""
        ranks = np.empty(self.order.size, dtype=np.float64)
        ranks[self.order] = np.repeat(self.starts + (self.counts + 1) / 2, self.counts)
        return ranks


def _gini(actual: np.ndarray, ranking: _Ranking) -> float:
    """Gini of `actual` ordered by a prediction's ranking; tied predictions get their group's mean actual.

    Averaging over ties is the expectation over every order of the tied customers, so a constant
    prediction scores exactly 0 instead of depending on the input order.
    """
    n = actual.size
    cumulative_share = np.cumsum(ranking.tie_means(actual)) / actual.sum()
    return float(cumulative_share.sum() / n - (n + 1) / (2 * n))


def _normalized_gini(actual: np.ndarray, by_prediction: _Ranking, by_actual: _Ranking) -> float:
    if actual.size < 2 or actual.sum() <= 0:
        return math.nan
    return _gini(actual, by_prediction) / _gini(actual, by_actual)


def normalized_gini(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """Gini of the prediction's ranking over that of the perfect ranking: 1 perfect, 0 random, -1 reversed."""
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    return _normalized_gini(actual, _Ranking.of(predicted), _Ranking.of(actual))


def _spearman(by_actual: _Ranking, by_prediction: _Ranking) -> float:
    if by_actual.order.size < 2 or by_actual.counts.size == 1 or by_prediction.counts.size == 1:
        return math.nan
    return float(np.corrcoef(by_actual.average_ranks(), by_prediction.average_ranks())[0, 1])


def spearman(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """Pearson correlation of the average ranks; NaN when either side is constant."""
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    return _spearman(_Ranking.of(actual), _Ranking.of(predicted))


def rmse(actual: Sequence[float], predicted: Sequence[float]) -> float:
    error = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(error**2)))


def _log1p_error(actual: Sequence[float], predicted: Sequence[float]) -> np.ndarray:
    actual = np.log1p(np.maximum(np.asarray(actual, dtype=np.float64), 0.0))
    predicted = np.log1p(np.maximum(np.asarray(predicted, dtype=np.float64), 0.0))
    return predicted - actual


def rmsle(actual: Sequence[float], predicted: Sequence[float]) -> float:
    return float(np.sqrt(np.mean(_log1p_error(actual, predicted) ** 2)))


def mae_log1p(actual: Sequence[float], predicted: Sequence[float]) -> float:
    return float(np.mean(np.abs(_log1p_error(actual, predicted))))


def _top_share(actual: np.ndarray, by_prediction: _Ranking, share: float) -> float:
    total = actual.sum()
    if actual.size == 0 or total <= 0:
        return math.nan
    top = max(1, math.ceil(share * actual.size))
    return float(actual[by_prediction.order[:top]].sum() / total)


def top_share(actual: Sequence[float], predicted: Sequence[float], share: float) -> float:
    """Share of the realised revenue earned by the top `share` of customers ranked by prediction."""
    actual = np.asarray(actual, dtype=np.float64)
    return _top_share(actual, _Ranking.of(np.asarray(predicted, dtype=np.float64)), share)


def decile_calibration(actual: Sequence[float], predicted: Sequence[float]) -> list[tuple[int, float, float]]:
    """(decile, mean predicted, mean actual) with decile 1 = the lowest predictions; ties split by order."""
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    if actual.size < 10:
        return []
    order = np.argsort(predicted, kind="stable")
    return [
        (decile, float(predicted[part].mean()), float(actual[part].mean()))
        for decile, part in enumerate(np.array_split(order, 10), start=1)
    ]


def regression_metrics(
    actual: Sequence[float], predicted: Sequence[float], *, deciles: bool = True
) -> dict[str, float]:
    """Ranking, error and calibration metrics; `deciles=False` leaves out the decile calibration (a third
    of the time, which the monitoring of nine prediction sets a run does not keep)."""
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    by_actual, by_prediction = _Ranking.of(actual), _Ranking.of(predicted)
    metrics = {
        "gini": _normalized_gini(actual, by_prediction, by_actual),
        "spearman": _spearman(by_actual, by_prediction),
        "rmse": rmse(actual, predicted),
        "rmsle": rmsle(actual, predicted),
        "mae_log1p": mae_log1p(actual, predicted),
        "top10_share": _top_share(actual, by_prediction, 0.10),
        "top20_share": _top_share(actual, by_prediction, 0.20),
        "mean_predicted": float(np.mean(predicted)) if len(predicted) else math.nan,
        "mean_actual": float(np.mean(actual)) if len(actual) else math.nan,
        "customers": float(len(actual)),
    }
    for decile, mean_predicted, mean_actual in decile_calibration(actual, predicted) if deciles else []:
        metrics[f"decile_{decile:02d}_predicted"] = mean_predicted
        metrics[f"decile_{decile:02d}_actual"] = mean_actual
    return metrics


def classifier_metrics(true_tiers: Sequence[int], probabilities: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1, log loss and the confusion matrix (`confusion_<true>_<predicted>`) of tiers."""
    true_tiers = np.asarray(true_tiers, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = list(range(len(TIERS)))
    predicted = probabilities.argmax(axis=1)
    clipped = np.clip(probabilities, 1e-7, 1.0)
    metrics = {
        "tier_accuracy": float(accuracy_score(true_tiers, predicted)),
        "tier_macro_f1": float(
            f1_score(true_tiers, predicted, labels=labels, average="macro", zero_division=0)
        ),
        "tier_log_loss": float(
            log_loss(true_tiers, clipped / clipped.sum(axis=1, keepdims=True), labels=labels)
        ),
    }
    matrix = confusion_matrix(true_tiers, predicted, labels=labels)
    for i, true_name in enumerate(TIERS):
        for j, predicted_name in enumerate(TIERS):
            metrics[f"confusion_{true_name}_{predicted_name}"] = float(matrix[i, j])
    return metrics


def mean_over_backtests(per_cutoff: Sequence[Mapping[str, float]], metric: str) -> float:
    values = _over_backtests(per_cutoff, metric)
    return float(np.mean(values)) if values else math.nan


def median_over_backtests(per_cutoff: Sequence[Mapping[str, float]], metric: str) -> float:
    values = _over_backtests(per_cutoff, metric)
    return float(np.median(values)) if values else math.nan


def _over_backtests(per_cutoff: Sequence[Mapping[str, float]], metric: str) -> list[float]:
    return [row[metric] for row in per_cutoff if metric in row and not math.isnan(row[metric])]


def beats_baselines(summary: Mapping[str, Mapping[str, float]]) -> bool | None:
    """The champion rule on {model: {metric: mean over backtests}}; a baseline that could not be fitted is
    left out; None without any evidence."""
    champion = summary.get(CHAMPION_MODEL)
    baselines = [model for model in BASELINE_MODELS if model in summary]
    if not champion or not baselines:
        return None

    def higher(metric: str, baseline: str) -> bool:
        mine, theirs = champion.get(metric, math.nan), summary[baseline].get(metric, math.nan)
        if math.isnan(mine):
            return False
        return math.isnan(theirs) or mine > theirs

    ranks_better = all(higher(metric, b) for metric in ("gini", "spearman") for b in baselines)
    rmse_mine = champion.get("rmse", math.nan)
    rmse_naive = summary.get("naive", {}).get("rmse", math.inf)
    return bool(ranks_better and not math.isnan(rmse_mine) and rmse_mine < rmse_naive)


def champion(summary: Mapping[str, Mapping[str, float]]) -> str | None:
    """`xgboost` when it beats both baselines, else the baseline with the higher mean Gini; None without
    evidence."""
    verdict = beats_baselines(summary)
    if verdict is None:
        return None
    if verdict:
        return CHAMPION_MODEL
    baselines = [model for model in BASELINE_MODELS if model in summary]
    return max(baselines, key=lambda model: _or_minus_inf(summary[model].get("gini", math.nan)))


def _or_minus_inf(value: float) -> float:
    return -math.inf if math.isnan(value) else value
