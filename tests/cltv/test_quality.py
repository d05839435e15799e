"""The Soda gates on real DuckDB warehouses: bad data injected into bronze, gold and predictions stops the run
at the named check, gold.dq_results records it, and the real data passes."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from soda_core.contracts import test_contract as validate_contract

from cltv.config import SODA_CHECKS_DIR, Settings
from cltv.ingest import ingest_landing
from cltv.quality import (
    EVERY_LOAD,
    LAYERS,
    ROW_COUNT_CHECK,
    DataQualityError,
    QualityReport,
    contract_dataset,
    contract_files,
    judged_loads,
    main,
    run_contracts,
    soda_environment,
    uses_judged_loads,
    verify_contracts,
)
from cltv.sample import COLUMNS
from cltv.warehouse import connect

AS_OF = date(2011, 11, 30)
# Invoices dated years after as_of and after the day they were loaded, whenever this test runs.
FUTURE_YEAR = max(2030, date.today().year + 4)


def invoice_rows(
    n: int,
    *,
    first_invoice: int = 550_000,
    unit_price: float = 2.55,
    missing_customer_share: float = 0.2,
    negative_price_share: float = 0.0,
    year: int = AS_OF.year,
) -> list[list[str]]:
    """`n` Online Retail lines over the 28 days up to AS_OF (in `year`), the first shares altered."""
    rows = []
    for i in range(n):
        day = AS_OF.replace(year=year) - timedelta(days=i % 28)
        price = -unit_price if i < n * negative_price_share else unit_price
        customer = "" if i >= n * (1 - missing_customer_share) else f"{12_000 + i % 97}.0"
        rows.append(
            [
                str(first_invoice + i // 4),
                f"{20_000 + i % 50}",
                "PAPER CHAIN KIT",
                str(1 + i % 6),
                f"{day.isoformat()} 10:{i % 60:02d}:00",
                f"{price:.2f}",
                customer,
                "United Kingdom",
            ]
        )
    return rows


def land(settings: Settings, name: str, rows: list[list[str]]) -> None:
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    with (settings.landing_dir / name).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def ingest_and_check(settings: Settings, run_id: str, layer: str = "bronze") -> QualityReport:
    """Ingest whatever is new in the landing folder, then verify a gate, as the DAG does."""
    ingest_landing(settings, run_id=run_id)
    return run_contracts(settings, layer=layer, run_id=run_id, as_of=AS_OF)


def recorded(settings: Settings, run_id: str, check_name: str) -> list[tuple]:
    with connect(settings, read_only=True) as con:
        return con.execute(
            "select dataset, outcome, round(measured_value, 4) from gold.dq_results "
            "where run_id = ? and check_name = ? order by dataset",
            [run_id, check_name],
        ).fetchall()


def failed_checks(error: DataQualityError) -> set[str]:
    return {result.check_name for result in error.report.failures}


def measured(report: QualityReport, check_name: str) -> float | None:
    [value] = [r.measured_value for r in report.results if r.check_name == check_name]
    return value


@pytest.fixture(autouse=True)
def _no_soda_telemetry() -> None:
    soda_environment()


# --- contracts -----------------------------------------------------------------------------------------


def test_every_gate_has_contracts_and_all_is_their_union():
    per_layer = {layer: [path for _, path in contract_files(layer)] for layer in LAYERS}

    assert [path.relative_to(SODA_CHECKS_DIR).as_posix() for path in per_layer["bronze"]] == [
        "bronze/raw_invoices.yml"
    ]
    assert [p.name for p in per_layer["ml"]] == ["customer_predictions.yml"]
    assert {"fct_invoices.yml", "dim_customer.yml", "rfm_segments.yml", "customer_features.yml"} <= {
        p.name for p in per_layer["gold"]
    }
    assert sorted(p for _, p in contract_files("all")) == sorted(p for ps in per_layer.values() for p in ps)
    with pytest.raises(ValueError, match="unknown layer 'platinum'"):
        contract_files("platinum")


# Contracts of dbt views: counting a view's rows recomputes it (its row count is its input's), so instead of
# `row count` they check that the view keeps every line of the judged loads.
VIEW_CONTRACTS = {"stg_bronze__invoice_lines": "name: lines of the judged loads lost or repeated\n"}


@pytest.mark.parametrize("contract", [path for _, path in contract_files("all")], ids=lambda p: p.stem)
def test_contract_is_valid_soda_and_records_its_row_count(contract: Path):
    variables = {
        "as_of": "2011-11-30",
        "as_of_end": "2011-12-01T00:00:00",
        "run_id": "r",
        "judged_loads": "_load_id in ('a')",
        "previous_row_count": 0,
    }

    result = validate_contract(contract_file_path=str(contract), variables=variables)

    assert result.get_errors() == []
    assert contract_dataset(contract).split(".")[0] in {"bronze", "silver", "gold"}
    assert VIEW_CONTRACTS.get(contract.stem, f"name: {ROW_COUNT_CHECK}\n") in contract.read_text()


def test_the_line_contracts_judge_the_loads_and_the_other_contracts_read_no_scope():
    scoped = {
        path.relative_to(SODA_CHECKS_DIR).as_posix()
        for _, path in contract_files("all")
        if uses_judged_loads(path)
    }

    assert scoped == {
        "bronze/raw_invoices.yml",
        "silver/int_invoice_lines_classified.yml",
        "silver/stg_bronze__invoice_lines.yml",
        "gold/fct_invoices.yml",
    }


# --- bronze: injected bad data --------------------------------------------------------------------------


def test_clean_loads_pass_and_are_recorded_once_per_run(settings: Settings):
    land(settings, "november.csv", invoice_rows(1000))

    report = ingest_and_check(settings, "run-1")
    again = run_contracts(settings, layer="bronze", run_id="run-1", as_of=AS_OF)

    assert report.passed
    assert report.warnings == []
    assert {r.check_name: r.measured_value for r in again.results}[ROW_COUNT_CHECK] == 1000
    assert recorded(settings, "run-1", ROW_COUNT_CHECK) == [("bronze.raw_invoices", "pass", 1000.0)]
    assert recorded(settings, "run-1", "missing customer id share") == [("bronze.raw_invoices", "pass", 20.0)]


def test_five_percent_negative_unit_prices_fail(settings: Settings):
    land(settings, "november.csv", invoice_rows(1000, negative_price_share=0.05))

    with pytest.raises(DataQualityError) as raised:
        ingest_and_check(settings, "run-1")

    assert failed_checks(raised.value) == {"negative unit price share"}
    message = str(raised.value)
    assert "bronze.raw_invoices: negative unit price share (unit_price) = 5, expected <= 1" in message
    assert recorded(settings, "run-1", "negative unit price share") == [("bronze.raw_invoices", "fail", 5.0)]


def test_a_spike_of_missing_customer_ids_fails_and_a_rise_warns(settings: Settings):
    land(settings, "october.csv", invoice_rows(1000, missing_customer_share=0.2))
    ingest_and_check(settings, "run-1")
    land(settings, "november.csv", invoice_rows(1000, first_invoice=560_000, missing_customer_share=0.35))
    warned = ingest_and_check(settings, "run-2")
    land(settings, "december.csv", invoice_rows(1000, first_invoice=570_000, missing_customer_share=0.6))

    with pytest.raises(DataQualityError) as raised:
        ingest_and_check(settings, "run-3")

    assert [(r.check_name, r.measured_value) for r in warned.warnings] == [("missing customer id share", 35)]
    assert failed_checks(raised.value) == {"missing customer id share"}
    assert "missing customer id share (customer_id) = 60, expected <= 50" in str(raised.value)
    assert recorded(settings, "run-2", "missing customer id share") == [("bronze.raw_invoices", "warn", 35.0)]
    assert recorded(settings, "run-3", "missing customer id share") == [("bronze.raw_invoices", "fail", 60.0)]


def test_a_file_of_invoices_dated_years_ahead_fails(settings: Settings):
    land(settings, "november.csv", invoice_rows(1000))
    ingest_and_check(settings, "run-1")
    land(settings, "future.csv", invoice_rows(200, first_invoice=580_000, year=FUTURE_YEAR))

    with pytest.raises(DataQualityError) as raised:
        ingest_and_check(settings, "run-2")

    assert failed_checks(raised.value) == {"invoices dated after their load"}
    assert "invoices dated after their load = 200, expected = 0" in str(raised.value)
    assert recorded(settings, "run-2", "invoices dated after their load") == [
        ("bronze.raw_invoices", "fail", 200.0)
    ]
    assert recorded(settings, "run-2", "share of loaded lines dated after as_of") == [
        ("bronze.raw_invoices", "warn", 100.0)
    ]


def test_prices_a_hundred_times_too_high_fail(settings: Settings):
    land(settings, "october.csv", invoice_rows(1000))
    ingest_and_check(settings, "run-1")
    land(settings, "november.csv", invoice_rows(1000, first_invoice=560_000, unit_price=255.0))

    with pytest.raises(DataQualityError) as raised:
        ingest_and_check(settings, "run-2")

    assert failed_checks(raised.value) == {
        "median unit price of loaded lines",
        "median unit price vs earlier loads",
    }
    assert "median unit price of loaded lines = 255, expected >= 0.1 and <= 100" in str(raised.value)
    assert recorded(settings, "run-2", "median unit price vs earlier loads") == [
        ("bronze.raw_invoices", "fail", 100.0)
    ]


def test_a_bad_new_load_fails_although_the_history_is_large_and_clean(settings: Settings):
    for month in range(10):
        land(settings, f"history-{month}.csv", invoice_rows(1000, first_invoice=500_000 + 1000 * month))
    ingest_and_check(settings, "run-1")
    land(settings, "november.csv", invoice_rows(1000, first_invoice=560_000, missing_customer_share=0.6))

    with pytest.raises(DataQualityError) as raised:
        ingest_and_check(settings, "run-2")

    # judged on the new load alone: 60%; over the whole table it would pass at (10 * 200 + 600) / 11,000
    assert recorded(settings, "run-2", "missing customer id share") == [("bronze.raw_invoices", "fail", 60.0)]
    assert failed_checks(raised.value) == {"missing customer id share"}
    with connect(settings, read_only=True) as con:
        whole_table = con.execute(
            "select round(100.0 * count(*) filter (where customer_id is null) / count(*), 4) "
            "from bronze.raw_invoices"
        ).fetchone()[0]
    assert whole_table == round(100 * 2600 / 11_000, 4)


def test_a_failed_load_is_judged_again_by_the_next_runs_until_it_is_withdrawn(settings: Settings):
    land(settings, "october.csv", invoice_rows(1000))
    ingest_and_check(settings, "run-1")
    land(settings, "november.csv", invoice_rows(1000, first_invoice=560_000, negative_price_share=0.05))
    with pytest.raises(DataQualityError):
        ingest_and_check(settings, "run-2")
    land(settings, "december.csv", invoice_rows(1000, first_invoice=570_000))

    # the next run brings a clean file: november is judged with it, not forgotten
    with pytest.raises(DataQualityError) as raised:
        ingest_and_check(settings, "run-3")
    with connect(settings) as con:  # withdrawn as the README says
        con.execute("delete from bronze.raw_invoices where _source_file = 'november.csv'")
        con.execute("update bronze.load_log set status = 'withdrawn' where source_file = 'november.csv'")
    report = run_contracts(settings, layer="bronze", run_id="run-3", as_of=AS_OF)

    assert failed_checks(raised.value) == {"negative unit price share"}
    assert recorded(settings, "run-2", "negative unit price share") == [("bronze.raw_invoices", "fail", 5.0)]
    assert measured(raised.value.report, "negative unit price share") == 2.5
    assert report.passed
    assert recorded(settings, "run-3", "negative unit price share") == [("bronze.raw_invoices", "pass", 0.0)]
    assert recorded(settings, "run-3", ROW_COUNT_CHECK) == [("bronze.raw_invoices", "pass", 2000.0)]


def test_an_old_bad_load_that_passed_is_not_judged_again(settings: Settings):
    land(settings, "october.csv", invoice_rows(1000, missing_customer_share=0.45))
    first = ingest_and_check(settings, "run-1")
    land(settings, "november.csv", invoice_rows(1000, first_invoice=560_000, missing_customer_share=0.1))

    second = ingest_and_check(settings, "run-2")

    assert [(r.check_name, r.measured_value) for r in first.warnings] == [("missing customer id share", 45)]
    assert second.warnings == []
    assert recorded(settings, "run-2", "missing customer id share") == [("bronze.raw_invoices", "pass", 10.0)]


def test_judged_loads_are_every_load_first_then_those_since_the_last_pass(settings: Settings):
    land(settings, "october.csv", invoice_rows(10))
    ingest_landing(settings, run_id="run-1")
    with connect(settings, read_only=True) as con:
        first = judged_loads(con, "bronze.raw_invoices", run_id="run-1")
    run_contracts(settings, layer="bronze", run_id="run-1", as_of=AS_OF)
    land(settings, "november.csv", invoice_rows(10, first_invoice=560_000))
    ingest_landing(settings, run_id="run-2")

    with connect(settings, read_only=True) as con:
        november, loaded_at = con.execute(
            "select _load_id, min(_loaded_at) from bronze.raw_invoices "
            "where _source_file = 'november.csv' group by all"
        ).fetchone()
        bronze_scope = judged_loads(con, "bronze.raw_invoices", run_id="run-2")
        rebuilt_scope = judged_loads(con, "bronze.raw_invoices", run_id="run-2", every_load=True)

    assert first == EVERY_LOAD
    assert (
        bronze_scope
        == f"_loaded_at >= TIMESTAMP '{loaded_at.isoformat(sep=' ')}' and _load_id in ('{november}')"
    )
    assert rebuilt_scope == EVERY_LOAD


def test_a_load_that_halves_the_row_count_fails(settings: Settings):
    land(settings, "october.csv", invoice_rows(500))
    land(settings, "november.csv", invoice_rows(500, first_invoice=560_000))
    ingest_and_check(settings, "run-1")
    with connect(settings) as con:  # the warehouse rebuilt from a landing folder that lost a file
        con.execute("delete from bronze.raw_invoices where _source_file = 'october.csv'")

    with pytest.raises(DataQualityError) as raised:
        run_contracts(settings, layer="bronze", run_id="run-2", as_of=AS_OF)

    assert failed_checks(raised.value) == {"row count vs previous run"}
    assert "row count vs previous run = 0.5, expected > 0.5" in str(raised.value)
    assert recorded(settings, "run-2", "row count vs previous run") == [("bronze.raw_invoices", "fail", 0.5)]


def test_a_missing_table_is_an_error_that_stops_the_run(settings: Settings):
    with connect(settings) as con:
        con.execute("create schema bronze")

    with pytest.raises(DataQualityError, match=r"ERROR bronze.raw_invoices: dataset exists"):
        run_contracts(settings, layer="bronze", run_id="run-1", as_of=AS_OF)

    assert recorded(settings, "run-1", "dataset exists") == [("bronze.raw_invoices", "error", None)]


def test_command_line_exits_one_on_failure(settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys):
    land(settings, "november.csv", invoice_rows(1000, negative_price_share=0.05))
    ingest_landing(settings, run_id="run-1")
    monkeypatch.setenv("CLTV_WAREHOUSE", str(settings.warehouse))

    status = main(["--layer", "bronze", "--as-of", AS_OF.isoformat()])

    assert status == 1
    assert "fail     bronze.raw_invoices  negative unit price share (unit_price)" in capsys.readouterr().out
    assert recorded(settings, "manual__2011-11-30", "negative unit price share")[0][1] == "fail"


def test_command_line_rechecks_the_latest_run_by_default(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys
):
    land(settings, "november.csv", invoice_rows(1000))
    ingest_landing(settings, run_id="scheduled__2011-12-01")
    run_contracts(settings, layer="bronze", run_id="scheduled__2011-12-01", as_of=AS_OF)
    monkeypatch.setenv("CLTV_WAREHOUSE", str(settings.warehouse))

    assert main(["--layer", "bronze"]) == 0

    assert "pass" in capsys.readouterr().out
    assert recorded(settings, "manual__2011-11-30", "row count")[0][1] == "pass"


def test_command_line_without_any_run_asks_for_an_as_of(settings: Settings, monkeypatch, capsys):
    monkeypatch.setenv("CLTV_WAREHOUSE", str(settings.warehouse))

    assert main(["--layer", "bronze"]) == 2
    assert "give --as-of" in capsys.readouterr().err


@pytest.mark.slow
def test_both_real_files_pass_the_bronze_contract(settings: Settings, real_data: dict[str, Path]):
    settings.landing_dir.mkdir(parents=True)
    for path in real_data.values():
        shutil.copy(path, settings.landing_dir / path.name)
    ingest_landing(settings, run_id="real")

    report = run_contracts(settings, layer="bronze", run_id="real", as_of=date(2011, 12, 9))

    measured = {r.check_name: round(r.measured_value, 4) for r in report.results}
    assert report.passed
    assert report.warnings == []
    assert measured[ROW_COUNT_CHECK] == 1_067_370
    assert measured["missing customer id share"] == round(100 * (135_080 + 107_927) / 1_067_370, 4)
    assert measured["negative unit price share"] == round(100 * 5 / 1_067_370, 4)
    assert measured["median unit price of loaded lines"] == 2.1


# --- silver, gold and predictions on a real dbt build and ML run -----------------------------------------

SAMPLE_AS_OF = date(2024, 12, 31)


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the sample loaded, dbt built and predictions written, once for this module."""
    from cltv.dbt_runner import run_dbt
    from cltv.sample import SampleSpec, generate_sample
    from ml.cutoffs import plan_cutoffs
    from ml.pipeline import run_ml_stage

    root = tmp_path_factory.mktemp("built")
    settings = settings_at(root)
    generate_sample(SampleSpec(rows=20_000), settings.landing_dir)
    ingest_landing(settings, run_id="build")
    cutoffs = [c.isoformat() for c in plan_cutoffs(SAMPLE_AS_OF, 90).all]
    dbt_vars = {"as_of": SAMPLE_AS_OF.isoformat(), "horizon_days": 90, "feature_cutoffs": cutoffs}
    run_dbt(["build"], settings, dbt_vars)
    run_ml_stage(settings, run_id="build", as_of=SAMPLE_AS_OF, horizon_days=90)
    return settings.warehouse


def settings_at(root: Path) -> Settings:
    return Settings.from_env(
        {
            "CLTV_WAREHOUSE": str(root / "warehouse" / "cltv.duckdb"),
            "CLTV_LANDING_DIR": str(root / "landing"),
            "CLTV_MODELS_DIR": str(root / "models"),
            "CLTV_SERVING_DIR": str(root / "serving"),
            "CLTV_DUCKDB_MEMORY_LIMIT": "2GB",
        }
    )


@pytest.fixture
def gold(built_warehouse: Path, tmp_path: Path) -> Settings:
    """A private copy of the built warehouse, free to be damaged."""
    settings = settings_at(tmp_path)
    settings.warehouse.parent.mkdir(parents=True)
    shutil.copy(built_warehouse, settings.warehouse)
    return settings


def damage_and_check(settings: Settings, layer: str, *statements: str) -> DataQualityError:
    with connect(settings) as con:
        for statement in statements:
            con.execute(statement)
    with pytest.raises(DataQualityError) as raised:
        run_contracts(settings, layer=layer, run_id="damaged", as_of=SAMPLE_AS_OF)
    return raised.value


@pytest.mark.slow
def test_every_gate_passes_on_the_dbt_and_ml_output(gold: Settings):
    reports = {
        layer: run_contracts(gold, layer=layer, run_id="run-1", as_of=SAMPLE_AS_OF) for layer in LAYERS
    }

    assert all(report.passed for report in reports.values())
    with connect(gold, read_only=True) as con:
        datasets = {row[0] for row in con.execute("select distinct dataset from gold.dq_results").fetchall()}
        outcomes = con.execute("select outcome, count(*) from gold.dq_results group by 1").fetchall()
    assert {
        "bronze.raw_invoices",
        "silver.stg_bronze__invoice_lines",
        "silver.int_invoice_lines_classified",
        "gold.fct_invoices",
        "gold.dim_customer",
        "gold.rfm_segments",
        "gold.customer_features",
        "gold.customer_predictions",
        "gold.report_customers",
    } <= datasets
    assert {outcome for outcome, _ in outcomes} <= {"pass", "warn"}


@pytest.mark.slow
def test_silver_lines_that_lost_their_customers_fail_the_silver_gate(gold: Settings):
    error = damage_and_check(
        gold, "silver", "update silver.int_invoice_lines_classified set customer_id = null"
    )

    assert failed_checks(error) == {"missing customer id share"}
    assert "silver.int_invoice_lines_classified: missing customer id share (customer_id) = 100" in str(error)


SILVER_LINES = ("stg_bronze__invoice_lines", "int_invoice_lines_classified")


def land_and_build_silver(
    settings: Settings, run_id: str, files: dict[str, list[list[str]]], models: tuple[str, ...] = SILVER_LINES
) -> None:
    """Land files, ingest them and build silver incrementally with dbt, as a run does before check_silver.

    Only the given models (silver's lines) and their own tests: a test that also reads a model not rebuilt
    here is left out.
    """
    from cltv.dbt_runner import run_dbt

    for name, rows in files.items():
        land(settings, name, rows)
    ingest_landing(settings, run_id=run_id)
    run_dbt(
        ["build", "--select", *models, "--indirect-selection", "cautious"],
        settings,
        {"as_of": SAMPLE_AS_OF.isoformat()},
    )


def silver_share(settings: Settings, flag: str) -> float:
    """The share of all silver lines with `flag`, in percent: what a whole-table check would measure."""
    with connect(settings, read_only=True) as con:
        return con.execute(
            f"select 100.0 * count(*) filter (where {flag}) / count(*) "
            "from silver.int_invoice_lines_classified"
        ).fetchone()[0]


@pytest.mark.slow
def test_a_file_loaded_twice_fails_the_silver_gate_on_its_own_lines(gold: Settings):
    run_contracts(gold, layer="silver", run_id="run-1", as_of=SAMPLE_AS_OF)
    december = invoice_rows(1000, year=SAMPLE_AS_OF.year)
    land_and_build_silver(gold, "run-2", {"december.csv": december})
    run_contracts(gold, layer="silver", run_id="run-2", as_of=SAMPLE_AS_OF)
    # the same lines under other bytes (a space after the country, which silver trims): dbt flags each copy
    copy = [[*row[:-1], row[-1] + " "] for row in december]

    land_and_build_silver(gold, "run-3", {"december-again.csv": copy})

    with pytest.raises(DataQualityError) as raised:
        run_contracts(gold, layer="silver", run_id="run-3", as_of=SAMPLE_AS_OF)

    assert failed_checks(raised.value) == {"duplicate line share"}
    assert recorded(gold, "run-3", "duplicate line share") == [
        ("silver.int_invoice_lines_classified", "fail", 100.0)
    ]
    assert silver_share(gold, "is_duplicate") < 10  # over the whole table it would not even warn


@pytest.mark.slow
def test_old_silver_lines_were_judged_by_their_run_and_a_full_refresh_judges_them_again(gold: Settings):
    run_contracts(gold, layer="silver", run_id="run-1", as_of=SAMPLE_AS_OF)
    with connect(gold) as con:  # lines judged by run-1 that a changed cleaning rule would now fail
        con.execute("update silver.int_invoice_lines_classified set customer_id = null")
    land_and_build_silver(gold, "run-2", {"december.csv": invoice_rows(1000, year=SAMPLE_AS_OF.year)})

    incremental = run_contracts(gold, layer="silver", run_id="run-2", as_of=SAMPLE_AS_OF)
    with pytest.raises(DataQualityError) as raised:
        run_contracts(gold, layer="silver", run_id="run-3", as_of=SAMPLE_AS_OF, full_refresh=True)

    assert incremental.passed
    assert recorded(gold, "run-2", "missing customer id share") == [
        ("silver.int_invoice_lines_classified", "pass", 20.0)
    ]
    assert failed_checks(raised.value) == {"missing customer id share"}
    assert recorded(gold, "run-3", "missing customer id share") == [
        ("silver.int_invoice_lines_classified", "fail", round(silver_share(gold, "customer_id is null"), 4))
    ]


@pytest.mark.slow
def test_old_facts_were_judged_by_their_run_and_a_full_refresh_judges_them_again(gold: Settings):
    run_contracts(gold, layer="gold", run_id="run-1", as_of=SAMPLE_AS_OF)
    with connect(gold) as con:  # facts judged by run-1 that a changed cleaning rule would now fail
        old_facts = con.execute("select count(*) from gold.fct_invoices").fetchone()[0]
        con.execute("update gold.fct_invoices set unit_price = 0")
    land_and_build_silver(
        gold,
        "run-2",
        {"december.csv": invoice_rows(1000, year=SAMPLE_AS_OF.year)},
        models=(*SILVER_LINES, "fct_invoices"),
    )
    facts = [("gold", SODA_CHECKS_DIR / "gold" / "fct_invoices.yml")]

    def non_positive_prices(full_refresh: bool) -> tuple[str, float]:
        results, _ = verify_contracts(
            gold, facts, run_id="run-2", as_of=SAMPLE_AS_OF, full_refresh=full_refresh
        )
        [result] = [r for r in results if r.check_name == "non-positive unit price"]
        return result.outcome, result.measured_value

    # the run's own load is judged (its facts are new and priced), the old facts were judged by run-1
    assert non_positive_prices(full_refresh=False) == ("pass", 0)
    assert non_positive_prices(full_refresh=True) == ("fail", old_facts)


@pytest.mark.slow
def test_a_fact_whose_customer_is_not_in_dim_customer_fails(gold: Settings):
    error = damage_and_check(
        gold,
        "gold",
        "delete from gold.dim_customer where customer_id = (select min(customer_id) from gold.fct_invoices)",
    )

    assert "customer in dim_customer" in failed_checks(error)
    assert "gold.fct_invoices: customer in dim_customer (customer_id) =" in str(error)


@pytest.mark.slow
def test_a_customer_without_facts_fails(gold: Settings):
    error = damage_and_check(
        gold,
        "gold",
        "delete from gold.fct_invoices where customer_id = (select min(customer_id) from gold.dim_customer)",
    )

    assert "customers without facts" in failed_checks(error)
    assert "gold.dim_customer: customers without facts = 1, expected = 0" in str(error)


@pytest.mark.slow
def test_rfm_scores_outside_one_to_five_fail(gold: Settings):
    error = damage_and_check(
        gold,
        "gold",
        "update gold.rfm_segments set recency_score = 6 "
        "where customer_id in (select customer_id from gold.rfm_segments order by 1 limit 3)",
    )

    assert failed_checks(error) == {"recency score outside 1-5"}
    assert "gold.rfm_segments: recency score outside 1-5 (recency_score) = 3, expected = 0" in str(error)


@pytest.mark.slow
def test_negative_predictions_and_probabilities_above_one_fail(gold: Settings):
    error = damage_and_check(
        gold,
        "ml",
        "update gold.customer_predictions set predicted_revenue = -1 "
        "where customer_id in (select customer_id from gold.customer_predictions order by 1 limit 2)",
        "update gold.customer_predictions set p_purchase = 1.5 "
        "where customer_id = (select max(customer_id) from gold.customer_predictions)",
    )

    assert failed_checks(error) == {"negative predicted revenue", "probability outside 0-1"}
    assert "negative predicted revenue (predicted_revenue) = 2, expected = 0" in str(error)
    assert "probability outside 0-1 (p_purchase) = 1, expected = 0" in str(error)


@pytest.mark.slow
def test_a_dropped_column_fails_the_schema(gold: Settings):
    error = damage_and_check(gold, "gold", "alter table gold.dim_customer drop column lifetime_cancellations")

    [schema] = [r for r in error.report.failures if r.check_name == "schema"]
    assert (schema.dataset, schema.outcome) == ("gold.dim_customer", "fail")
    assert "lifetime_cancellations" in schema.diagnostics
    # the column's own checks cannot run any more: errors, which stop the run too
    assert {r.dataset for r in error.report.failures} == {"gold.dim_customer"}
    assert "negative cancellation count" in failed_checks(error)


@pytest.mark.slow
def test_a_stale_fact_table_fails_freshness(gold: Settings):
    error = damage_and_check(gold, "gold", "delete from gold.fct_invoices where invoice_date > '2024-10-31'")

    assert "days from latest invoice to as_of" in failed_checks(error)
    [fresh] = [r for r in error.report.failures if r.check_name == "days from latest invoice to as_of"]
    assert fresh.dataset == "gold.fct_invoices"
    assert fresh.measured_value > 31
    assert datetime(2024, 12, 31) - timedelta(days=fresh.measured_value) < datetime(2024, 11, 1)
