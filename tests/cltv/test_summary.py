from __future__ import annotations

from cltv.config import Settings
from cltv.summary import warehouse_summary
from cltv.warehouse import connect


def test_summary_says_when_there_is_no_warehouse(settings: Settings):
    assert warehouse_summary(settings) == f"No warehouse at {settings.warehouse} yet."


def test_summary_counts_what_exists_and_marks_what_does_not(settings: Settings):
    with connect(settings) as con:
        con.execute(
            "create schema bronze; create table bronze.raw_invoices as select range as x from range(1234)"
        )
    text = warehouse_summary(settings, seconds=12.4)
    assert "bronze rows loaded       1,234" in text
    assert "silver invoice lines     -" in text
    assert "pipeline run time        12 s" in text


def test_summary_reports_the_latest_predictions_and_the_publication(settings: Settings):
    with connect(settings) as con:
        con.execute(
            "create schema gold; create table gold.customer_predictions as "
            "select * from (values ('a', date '2011-08-31', 10.5), ('a', date '2011-09-30', 1200.25), "
            "('b', date '2011-09-30', 100.0)) t(customer_id, as_of_date, predicted_revenue)"
        )
    (settings.serving_dir).mkdir(parents=True)
    (settings.serving_dir / "cltv.duckdb").touch()

    text = warehouse_summary(settings)

    assert "customers predicted      2" in text
    assert "predicted revenue        1,300.25" in text
    assert f"Published for BI readers: {settings.serving_dir / 'cltv.duckdb'}" in text


def test_summary_names_the_latest_champion_and_when_its_model_was_trained(settings: Settings):
    with connect(settings) as con:
        con.execute(
            "create schema gold; create table gold.model_runs as "
            "select * from (values (date '2025-01-31', 'xgboost', date '2024-12-31'), "
            "(date '2025-02-28', 'bgnbd', date '2024-12-31'), "
            "(date '2024-12-31', 'naive', date '2024-12-31')) "
            "t(as_of, champion, trained_as_of)"
        )
    text = warehouse_summary(settings)
    assert "model champion           bgnbd" in text
    assert "model trained as of      2024-12-31" in text
