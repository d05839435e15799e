"""Constants of the ML stage: features, seeds, search space, and the limits that keep it within 2 cores.

One place, so that training, scoring and the tests agree on what a model sees and how it is fitted.
"""

from __future__ import annotations

from dataclasses import dataclass

RANDOM_STATE = 20111209
N_JOBS = 2  # the machine has two cores shared by everything else
# Below this many rows XGBoost runs on one thread: OpenMP's synchronisation costs more than a second core
# saves on small data, and on a busy machine two threads were measured 16x slower than one.
SINGLE_THREAD_ROWS = 100_000


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
    "revenue_last_year_window",
    "orders_last_year_window",
)
# BG/NBD's view of each customer, fitted on the same cutoff's features (no labels), is stacked as three
# more features: XGBoost then starts from the probabilistic model and learns where it errs.
BGNBD_FEATURES: tuple[str, ...] = ("bgnbd_expected_purchases", "bgnbd_p_alive", "bgnbd_clv")
MODEL_FEATURES: tuple[str, ...] = FEATURES + BGNBD_FEATURES
LABEL = "label_revenue"

# Monotone constraints of the revenue models: more past spend, orders or BG/NBD expectation never lowers the
# forecast, a longer time since the last purchase never raises it. They keep a model fitted on a few
# thousand customers from learning noise that flips the ranking; on the backtests they stopped the one
# unstable fold from overfitting (Gini 0.76 -> 0.80) and cost nothing elsewhere. The tier classifier is
# left free: the direction differs between its classes.
INCREASING: frozenset[str] = frozenset(
    {
        "frequency",
        "monetary",
        "revenue_90d",
        "revenue_180d",
        "revenue_365d",
        "orders_90d",
        "orders_180d",
        "orders_365d",
        "spend_per_day",
        "frequency_repeat_days",
        "bgnbd_expected_purchases",
        "bgnbd_clv",
        "revenue_last_year_window",
        "orders_last_year_window",
    }
)
DECREASING: frozenset[str] = frozenset({"recency_days"})


# `tweedie_bgnbd` boosts from BG/NBD + Gamma-Gamma's CLV: log(max(bgnbd_clv, OFFSET_FLOOR)) is every row's
# base margin, so the trees learn a bounded multiplicative correction of a forecast that scales with the
# customer's money instead of a capped amount per leaf. The floor (one unit of money) keeps a customer BG/NBD
# gives ~0 from an offset of -inf.
OFFSET_FEATURE = "bgnbd_clv"
OFFSET_FLOOR = 1.0
# With the offset, the trees model a ratio to BG/NBD's forecast: it should be free to fall where BG/NBD's own
# inputs are high (where it over-forecasts), so the features the offset is made of lose their constraint.
OFFSET_UNCONSTRAINED: frozenset[str] = frozenset({"bgnbd_clv", "bgnbd_expected_purchases"})


def monotone_constraints(
    features: tuple[str, ...] = MODEL_FEATURES, unconstrained: frozenset[str] = frozenset()
) -> tuple[int, ...]:
    """XGBoost's monotone_constraints for these features: +1, -1 or 0 each (0 for `unconstrained`)."""
    return tuple(
        0 if name in unconstrained else 1 if name in INCREASING else -1 if name in DECREASING else 0
        for name in features
    )


TIERS: tuple[str, ...] = ("none", "low", "mid", "high")

# Objectives compared on every backtest; the run serves the one with the best backtest results (ml.train's
# docstring says how), or DEFAULT_OBJECTIVE when no backtest could be run. `tweedie` (without BG/NBD's
# offset) and `log1p` are implemented and can be compared (`fit_models(objectives=...)`), but are not in the
# default set: ml.train's docstring says what they lost on.
OBJECTIVES: tuple[str, ...] = ("tweedie_bgnbd", "hurdle")
ALL_OBJECTIVES: tuple[str, ...] = (*OBJECTIVES, "tweedie", "log1p")
DEFAULT_OBJECTIVE = "tweedie"

# A handful of configurations: shallow/regularised to deeper. Chosen on the validation cutoff only.
SEARCH_SPACE: tuple[dict[str, float], ...] = (
    {"max_depth": 2, "min_child_weight": 5.0, "subsample": 0.8, "colsample_bytree": 0.8, "reg_lambda": 1.0},
    {"max_depth": 3, "min_child_weight": 5.0, "subsample": 0.8, "colsample_bytree": 0.8, "reg_lambda": 1.0},
    {"max_depth": 4, "min_child_weight": 10.0, "subsample": 0.8, "colsample_bytree": 0.8, "reg_lambda": 5.0},
)
LEARNING_RATE = 0.08
MAX_ROUNDS = 300  # real data stops after 30-100 rounds; the cap bounds time on smooth large data
EARLY_STOPPING_ROUNDS = 20
# Candidates whose validation Gini is within this of the best are equals; the lowest RMSE among them wins.
GINI_TOLERANCE = 0.005
MAX_BIN = 128


@dataclass(frozen=True)
class MlLimits:
    """Sizes that bound memory and time; the defaults keep 1M customers within minutes on 2 cores."""

    min_training_rows: int = 200  # fewer labelled customers than this: baselines only
    min_training_buyers: int = 30  # fewer buyers in the label windows than this: baselines only
    max_training_rows: int = 150_000  # more: a deterministic sample of customers (hash of the id)
    max_backtest_rows: int = 30_000  # a backtest's model trains on at most this many rows (it only scores)
    max_search_rows: int = 20_000  # the hyper-parameter search fits on at most this many rows
    max_test_rows: int = 100_000  # a backtest's test cutoff is evaluated on at most this many customers
    max_baseline_fit_rows: int = 20_000  # BG/NBD and Gamma-Gamma fit on at most this many customers
    score_batch_rows: int = 200_000  # scoring reads and predicts this many customers at a time


DEFAULT_LIMITS = MlLimits()
