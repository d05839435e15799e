"""Serving files for the dashboard's tests: a tiny one built in code, and a real one from the whole stack.

The tiny shop (`tiny_publication`) has seven scored customers whose last-period revenue, predicted revenue,
tiers and segments are chosen so each audience and each cell of the movement matrix has a known answer
(see the table in `TINY_CUSTOMERS`). It goes through the real `publish`, so the dashboard reads it exactly
as it reads production. `real_publication` runs sample -> ingest -> dbt -> ML -> publish on a small sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from cltv.config import Settings
from cltv.publish import publish
from cltv.warehouse import connect
from tests.conftest import settings_in

AS_OF = date(2024, 12, 31)
HORIZON = 90
WINDOW_START = AS_OF - timedelta(days=HORIZON)  # 2024-10-02: the last window is (2024-10-02, 2024-12-31]
TRAINING_CUTOFF = WINDOW_START
RUN_ID = "run-tiny"
# Positive training labels 100, 200, 300, 400: tertiles (linear, as numpy) 200 and 300.
TIER_THRESHOLDS = (200.0, 300.0)


@dataclass(frozen=True)
class TinyCustomer:
    customer_id: str
    lines: tuple[tuple[date, float, bool], ...]  # invoice date, revenue, is_cancellation
    predicted_revenue: float
    predicted_tier: str
    p_purchase: float
    segment: str
    value_tier: str
    recency_score: int
    frequency_score: int


D = date  # short, for the table below
TINY_CUSTOMERS = (
    # last period 1000 -> high; predicted 800 high
    TinyCustomer("A", ((D(2024, 12, 1), 1000.0, False),), 800.0, "high", 0.9, "Champions", "High", 5, 5),
    # last period 250 -> mid; predicted 100 low (-60%)
    TinyCustomer("B", ((D(2024, 11, 2), 250.0, False),), 100.0, "low", 0.4, "At Risk", "High", 2, 4),
    # last period 200 - 50 returned = 150 -> low; predicted 120 low (-20%)
    TinyCustomer(
        "C",
        ((D(2024, 10, 3), 200.0, False), (D(2024, 10, 20), -50.0, True)),
        120.0,
        "low",
        0.7,
        "Loyal Customers",
        "Mid",
        4,
        4,
    ),
    # bought before the window only -> none; predicted 0 none
    TinyCustomer("D", ((D(2024, 6, 1), 500.0, False),), 0.0, "none", 0.05, "Hibernating", "High", 1, 2),
    # only a return in the window: net -30, floored at 0 -> none; predicted 600 high
    TinyCustomer(
        "E",
        ((D(2024, 9, 1), 40.0, False), (D(2024, 12, 20), -30.0, True)),
        600.0,
        "high",
        0.8,
        "New Customers",
        "Low",
        5,
        1,
    ),
    # last period exactly 300 -> mid (the upper threshold is inclusive); predicted 250 mid (-17%)
    TinyCustomer("F", ((D(2024, 12, 30), 300.0, False),), 250.0, "mid", 0.6, "Loyal Customers", "Mid", 5, 3),
    # last period exactly 200 -> low (a line on 2024-10-02 itself is outside); predicted 50 none (-75%)
    TinyCustomer(
        "G",
        ((D(2024, 10, 2), 999.0, False), (D(2024, 12, 31), 200.0, False)),
        50.0,
        "none",
        0.3,
        "About to Sleep",
        "Low",
        3,
        1,
    ),
)
CURRENT_TIERS = {"A": "high", "B": "mid", "C": "low", "D": "none", "E": "none", "F": "mid", "G": "low"}
LAST_PERIOD_REVENUE = {"A": 1000.0, "B": 250.0, "C": 150.0, "D": 0.0, "E": 0.0, "F": 300.0, "G": 200.0}


def _create_gold(con) -> None:
    con.execute(
        """
        create schema gold;
        create table gold.fct_invoices (
            invoice_no varchar, customer_id varchar, is_cancellation boolean, invoice_date date,
            revenue decimal(18, 3)
        );
        create table gold.dim_customer (
            customer_id varchar, country varchar, lifetime_orders bigint, lifetime_net_revenue decimal(38, 3)
        );
        create table gold.rfm_segments (
            customer_id varchar, as_of_date date, recency_days integer, frequency integer,
            recency_score integer, frequency_score integer, monetary decimal(18, 3), rfm_cell varchar,
            segment varchar, value_tier varchar
        );
        create table gold.rfm_segment_history as select * from gold.rfm_segments;
        create table gold.customer_predictions (
            customer_id varchar, as_of_date date, horizon_days integer, predicted_revenue double,
            p_purchase double, predicted_tier varchar, bgnbd_p_alive double, bgnbd_clv double,
            naive_revenue double, top_drivers varchar, model_version varchar, is_baseline_only boolean,
            run_id varchar
        );
        create table gold.customer_features (
            customer_id varchar, cutoff_date date, horizon_days integer, recency_days integer,
            label_revenue decimal(18, 3), label_orders integer
        );
        create table gold.model_runs (
            run_id varchar, as_of date, horizon_days integer, status varchar, reason varchar,
            training_cutoffs varchar, training_rows bigint, backtest_cutoffs varchar, objective varchar,
            model_version varchar, beat_baselines boolean, customers_scored bigint
        );
        create table gold.model_metrics (
            run_id varchar, as_of date, cutoff date, model varchar, metric varchar, value double
        );
        create table gold.model_performance_history (
            evaluated_as_of date, prediction_as_of date, horizon_days integer, model_version varchar,
            model varchar, metric varchar, value double, run_id varchar
        );
        create table gold.report_sales (
            month_start_date date, as_of_date date, order_count bigint, customer_count bigint,
            net_revenue decimal(38, 3)
        );
        """
    )


def _insert_customers(con) -> None:
    for number, c in enumerate(TINY_CUSTOMERS):
        for line, (day, revenue, cancelled) in enumerate(c.lines):
            invoice = f"{'C' if cancelled else ''}{number}{line}"
            con.execute(
                "insert into gold.fct_invoices values (?, ?, ?, ?, ?)",
                [invoice, c.customer_id, cancelled, day, revenue],
            )
        lifetime = sum(revenue for _, revenue, _ in c.lines)
        con.execute(
            "insert into gold.dim_customer values (?, 'United Kingdom', ?, ?)",
            [c.customer_id, len(c.lines), lifetime],
        )
        cell = f"{c.recency_score}{c.frequency_score}"
        segment = [
            c.customer_id,
            AS_OF,
            c.recency_score,
            c.frequency_score,
            lifetime,
            cell,
            c.segment,
            c.value_tier,
        ]
        values = (
            "(?, ?, 30, 2, ?, ?, ?, ?, ?, ?)"  # recency 30 days, 2 orders: not what these tests are about
        )
        con.execute(f"insert into gold.rfm_segments values {values}", segment)
        con.execute(f"insert into gold.rfm_segment_history values {values}", segment)
        con.execute(
            "insert into gold.customer_predictions values "
            "(?, ?, ?, ?, ?, ?, 0.9, 1.0, 2.0, ?, 'xgb-tiny', false, ?)",
            [
                c.customer_id,
                AS_OF,
                HORIZON,
                c.predicted_revenue,
                c.p_purchase,
                c.predicted_tier,
                "revenue_90d +0.812; recency_days -0.540; frequency +0.201",
                RUN_ID,
            ],
        )
        con.execute(
            "insert into gold.customer_features values (?, ?, ?, 10, null, null)",
            [c.customer_id, AS_OF, HORIZON],
        )


def _insert_history_and_model(con) -> None:
    # An older run: its predictions and segments must not leak into this run's pages.
    con.execute(
        """
        insert into gold.customer_predictions values
            ('A', date '2024-09-30', 90, 99999.0, 0.1, 'none', 0.1, 1.0, 1.0, null, 'xgb-old', false,
             'run-old');
        insert into gold.rfm_segment_history values
            ('A', date '2024-09-30', 60, 1, 3, 3, 10.0, '33', 'Need Attention', 'Low'),
            ('B', date '2024-09-30', 5, 4, 5, 5, 10.0, '55', 'Champions', 'High');
        -- A line after as_of, outside every figure of the run.
        insert into gold.fct_invoices values ('late', 'A', false, date '2025-01-05', 9999);
        """
    )
    labels = [("T1", 100), ("T2", 200), ("T3", 300), ("T4", 400), ("T5", 0), ("T6", -20)]
    for customer, label in labels:
        con.execute(
            "insert into gold.customer_features values (?, ?, ?, 5, ?, 1)",
            [customer, TRAINING_CUTOFF, HORIZON, label],
        )
    # Labels the thresholds must ignore: another horizon, and a cutoff the run did not train on.
    con.execute("insert into gold.customer_features values ('T7', ?, 180, 5, 100000, 1)", [TRAINING_CUTOFF])
    con.execute("insert into gold.customer_features values ('T8', date '2024-07-04', 90, 5, 100000, 1)")
    con.execute(
        """
        insert into gold.model_runs values
            (?, ?, 90, 'trained', 'trained; XGBoost beat both baselines', ?, 4, '["2024-10-02"]', 'tweedie',
             'xgb-tiny', true, 7),
            ('run-old', date '2024-09-30', 90, 'trained', 'older', '["2024-07-02"]', 4, '[]', 'tweedie',
             'xgb-old', false, 1)
        """,
        [RUN_ID, AS_OF, f'["{TRAINING_CUTOFF.isoformat()}"]'],
    )
    metrics = []
    for model, gini, scale in (("xgboost", 0.6, 1.0), ("naive", 0.4, 2.0), ("bgnbd", 0.5, 1.5)):
        for cutoff, offset in ((date(2024, 10, 2), 0.0), (date(2024, 7, 4), 0.1)):
            metrics.append((RUN_ID, AS_OF, cutoff, model, "gini", gini + offset))
            metrics.append((RUN_ID, AS_OF, cutoff, model, "rmse", 100.0 * scale))
            for decile in (1, 2):
                metrics.append(
                    (RUN_ID, AS_OF, cutoff, model, f"decile_{decile:02d}_predicted", decile * scale)
                )
                metrics.append(
                    (RUN_ID, AS_OF, cutoff, model, f"decile_{decile:02d}_actual", decile * 10.0 + offset)
                )
    con.executemany("insert into gold.model_metrics values (?, ?, ?, ?, ?, ?)", metrics)
    con.execute(
        "insert into gold.report_sales values "
        "(date '2024-11-01', ?, 3, 2, 1250), (date '2024-12-01', ?, 4, 4, 1470)",
        [AS_OF, AS_OF],
    )


def write_tiny_gold(settings: Settings) -> None:
    with connect(settings) as con:
        _create_gold(con)
        _insert_customers(con)
        _insert_history_and_model(con)


@pytest.fixture(scope="module")
def tiny_publication(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose serving dir holds the tiny shop, published by the real `publish`."""
    settings = settings_in(tmp_path_factory.mktemp("dashboard-tiny"))
    write_tiny_gold(settings)
    publish(settings, run_id=RUN_ID, as_of=AS_OF)
    return settings


# --- the real stack ----------------------------------------------------------------------------------

SAMPLE_ROWS = 20_000
FIRST_AS_OF = date(2024, 9, 30)
SECOND_AS_OF = date(2024, 12, 31)
REAL_HORIZON = 90
N_TRAINING_CUTOFFS = 2
N_BACKTESTS = 2


@dataclass(frozen=True)
class RealPublication:
    """A warehouse with two runs built; the serving dir holds the first until `publish_second` is called."""

    settings: Settings
    first_run: str
    second_run: str
    publish_second: Callable[[], None]


def build_run(settings: Settings, run_id: str, as_of: date) -> None:
    """dbt then the ML stage for one as_of, with the vars `cltv dbt-build` and the DAG's plan give dbt."""
    from cltv.dbt_runner import run_dbt
    from ml.cutoffs import plan_cutoffs
    from ml.pipeline import run_ml_stage

    plan = plan_cutoffs(as_of, REAL_HORIZON, n_training_cutoffs=N_TRAINING_CUTOFFS, n_backtests=N_BACKTESTS)
    dbt_vars = {
        "as_of": as_of.isoformat(),
        "horizon_days": REAL_HORIZON,
        "feature_cutoffs": [cutoff.isoformat() for cutoff in plan.all],
    }
    run_dbt(["build"], settings, dbt_vars)
    run_ml_stage(
        settings,
        run_id=run_id,
        as_of=as_of,
        horizon_days=REAL_HORIZON,
        n_training_cutoffs=N_TRAINING_CUTOFFS,
        n_backtests=N_BACKTESTS,
    )


@pytest.fixture(scope="session")
def real_publication(tmp_path_factory: pytest.TempPathFactory) -> RealPublication:
    """sample -> ingest -> dbt -> ML -> publish at FIRST_AS_OF; a second run built but not yet published.

    Building the second run before any test reads lets a test publish it in a second (what the dashboard
    must notice), instead of waiting minutes for dbt and ML in the middle of a browser session.
    """
    from cltv.ingest import ingest_landing
    from cltv.sample import SampleSpec, generate_sample

    settings = settings_in(tmp_path_factory.mktemp("dashboard-real"))
    generate_sample(SampleSpec(rows=SAMPLE_ROWS, seed=7), settings.landing_dir)
    ingest_landing(settings, run_id="dashboard-ingest")
    build_run(settings, "dashboard-run-1", FIRST_AS_OF)
    publish(settings, run_id="dashboard-run-1", as_of=FIRST_AS_OF)
    build_run(settings, "dashboard-run-2", SECOND_AS_OF)

    def publish_second() -> None:
        publish(settings, run_id="dashboard-run-2", as_of=SECOND_AS_OF)

    return RealPublication(settings, "dashboard-run-1", "dashboard-run-2", publish_second)
