"""The README table: realised next-H-days metrics of published predictions, and backtest means."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from cltv.config import Settings
from cltv.warehouse import connect
from ml.pipeline import DDL
from ml.report import main as report_main
from ml.report import report

AS_OF = date(2011, 9, 9)
PREDICTIONS = pd.DataFrame(
    {
        "customer_id": ["a", "b", "c", "d"],
        "predicted_revenue": [1.0, 2.0, 0.5, 3.0],
        "bgnbd_clv": [2.0, 1.0, 0.0, 3.0],
        "naive_revenue": [5.0, 0.0, 0.0, 0.0],
    }
)
# Realised in (2011-09-09, 2011-12-08]: a 0, b 10 (the 2011-12-09 line is after the window), c -5 -> 0, d 30
# (the as_of day itself is before the window).
LINES = [
    ("b", "2011-09-10", 4.0),
    ("b", "2011-12-08", 6.0),
    ("b", "2011-12-09", 100.0),
    ("c", "2011-10-01", -5.0),
    ("d", "2011-09-09", 50.0),
    ("d", "2011-11-11", 30.0),
]


def write_run(settings: Settings, lines: list[tuple[str, str, float]]) -> None:
    predictions = PREDICTIONS.assign(
        as_of_date=AS_OF, horizon_days=90, model_version="xgb-test", is_baseline_only=False, run_id="r1"
    )
    for tier in ("none", "low", "mid", "high"):
        predictions[f"p_tier_{tier}"] = 0.25
    runs = pd.DataFrame(
        [
            {
                "run_id": "r1",
                "as_of": AS_OF,
                "horizon_days": 90,
                "status": "trained",
                "reason": "trained; XGBoost beat both baselines",
                "objective": "tweedie",
                "model_version": "xgb-test",
                "beat_baselines": True,
                "champion": "xgboost",
            }
        ]
    )
    metrics = pd.DataFrame(
        [
            ("r1", AS_OF, date(2011, 6, 11), "xgboost", "gini", 0.8),
            ("r1", AS_OF, date(2011, 3, 13), "xgboost", "gini", 0.6),
            ("r1", AS_OF, date(2011, 6, 11), "naive", "gini", 0.5),
            ("r1", AS_OF, date(2011, 3, 13), "naive", "gini", 0.4),
        ],
        columns=["run_id", "as_of", "cutoff", "model", "metric", "value"],
    )
    invoices = pd.DataFrame(lines, columns=["customer_id", "invoice_date", "revenue"])
    invoices["invoice_date"] = pd.to_datetime(invoices["invoice_date"]).dt.date
    with connect(settings) as con:
        con.execute(DDL)
        for name, frame in (("p", predictions), ("r", runs), ("m", metrics), ("i", invoices)):
            con.register(name, frame)
        con.execute("insert into gold.customer_predictions by name select * from p")
        con.execute("insert into gold.model_runs by name select * from r")
        con.execute("insert into gold.model_metrics by name select * from m")
        con.execute(
            "create table gold.fct_invoices as select * replace (revenue::decimal(18, 3) as revenue) from i"
        )


def test_realised_metrics_use_exactly_the_next_horizon_days(settings):
    write_run(settings, LINES)
    text = report(settings)
    realised, backtests = text.split("Mean of 2 out-of-time backtests")
    assert "4 customers known at 2011-09-09, revenue of 2011-09-10..2011-12-08" in realised
    # XGBoost orders d, b, a, c: the perfect order of (30, 10, 0, 0) -> Gini 1; errors 1, -8, 0.5, -27
    xgboost_row = next(line for line in realised.splitlines() if line.startswith("| XGBoost |"))
    cells = [cell.strip() for cell in xgboost_row.strip("|").split("|")]
    assert cells[1] == "1.000"
    assert cells[3] == f"{math.sqrt((1 + 64 + 0.25 + 729) / 4):,.0f}"
    # top 10% of 4 customers is 1 customer: d, 30 of 40
    assert cells[6] == "75.0%"
    naive_row = next(line for line in realised.splitlines() if line.startswith("| naive"))
    assert naive_row.split("|")[4].strip() == f"{math.sqrt((25 + 100 + 0 + 900) / 4):,.0f}"
    assert "| XGBoost | 0.700 |" in backtests
    assert "| naive (past rate x H) | 0.450 |" in backtests
    assert "champion = xgboost" in text


def test_without_the_whole_next_window_the_realised_table_says_why(settings):
    write_run(settings, [line for line in LINES if line[1] < "2011-11-01"])
    text = report(settings, AS_OF)
    assert "not available: the warehouse's lines end 2011-10-01, before 2011-12-08" in text
    assert text.count("| XGBoost |") == 1  # the backtest table only


def test_the_command_prints_the_report(settings, monkeypatch, capsys):
    write_run(settings, LINES)
    monkeypatch.setenv("CLTV_WAREHOUSE", str(settings.warehouse))
    assert report_main(["--as-of", "2011-09-09"]) == 0
    assert "| BG/NBD + Gamma-Gamma |" in capsys.readouterr().out


def test_an_as_of_without_published_predictions_is_a_clear_error(settings):
    write_run(settings, LINES)
    with pytest.raises(LookupError, match="no ML run has published predictions for as_of 2011-06-01"):
        report(settings, date(2011, 6, 1))
