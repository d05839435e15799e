"""Constants of the ML stage: features, seeds, search space, and the limits that keep it within 2 cores.

One place, so that training, scoring and the tests agree on what a model sees and how it is fitted.
"""

from __future__ import annotations

from dataclasses import dataclass

RANDOM_STATE = 20111209
N_JOBS = 2  # the machine has two cores shared by everything else

# Numeric columns of gold.customer_features the XGBoost models see (country is too sparse to help and
# would tie a model to one shop's markets). Counts, money and days only: nothing from the label window.
FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "ipt_mean_days",
    "ipt_std_days",
    "revenue_30d",
    "revenue_90d",
    "revenue_180d",
    "revenue_365d",
    "orders_30d",
    "orders_90d",
    "orders_180d",
    "orders_365d",
    "trend_revenue_90d",
    "spend_per_day",
    "basket_value_mean",
    "basket_value_max",
    "basket_items_mean",
    "distinct_products",
    "return_rate",
    "seasonal_share",
    "frequency_repeat_days",
    "recency_bgnbd_days",
)
# BG/NBD's view of each customer, fitted on the same cutoff's features (no labels), is stacked as three
# more features: XGBoost then starts from the probabilistic model and learns where it errs.
BGNBD_FEATURES: tuple[str, ...] = ("bgnbd_expected_purchases", "bgnbd_p_alive", "bgnbd_clv")
MODEL_FEATURES: tuple[str, ...] = FEATURES + BGNBD_FEATURES
LABEL = "label_revenue"

TIERS: tuple[str, ...] = ("none", "low", "mid", "high")

# Objectives compared on every backtest, and the one that serves (see ml.train's docstring for why).
OBJECTIVES: tuple[str, ...] = ("tweedie", "hurdle", "log1p")
SERVED_OBJECTIVE = "tweedie"

# A handful of configurations: shallow/regularised to deeper. Chosen on the validation cutoff only.
SEARCH_SPACE: tuple[dict[str, float], ...] = (
    {"max_depth": 3, "min_child_weight": 5.0, "subsample": 0.8, "colsample_bytree": 0.8, "reg_lambda": 1.0},
    {"max_depth": 4, "min_child_weight": 10.0, "subsample": 0.8, "colsample_bytree": 0.8, "reg_lambda": 5.0},
    {"max_depth": 6, "min_child_weight": 20.0, "subsample": 0.7, "colsample_bytree": 0.7, "reg_lambda": 10.0},
)
LEARNING_RATE = 0.08
MAX_ROUNDS = 500
EARLY_STOPPING_ROUNDS = 30
# Candidates whose validation Gini is within this of the best are equals; the lowest RMSE among them wins.
GINI_TOLERANCE = 0.005
MAX_BIN = 128


@dataclass(frozen=True)
class MlLimits:
    """Sizes that bound memory and time; the defaults keep 1M customers within minutes on 2 cores."""

    min_training_rows: int = 200  # fewer labelled customers than this: baselines only
    min_training_buyers: int = 30  # fewer buyers in the label windows than this: baselines only
    max_training_rows: int = 400_000  # more: a deterministic sample of customers (hash of the id)
    max_search_rows: int = 100_000  # the hyper-parameter search fits on at most this many rows
    max_baseline_fit_rows: int = 200_000  # BG/NBD and Gamma-Gamma fit on at most this many customers
    score_batch_rows: int = 200_000  # scoring reads and predicts this many customers at a time


DEFAULT_LIMITS = MlLimits()
