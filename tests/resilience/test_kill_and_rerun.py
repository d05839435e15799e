"""SIGKILL the run inside each stage; running the stage again (as Airflow retries a task) must complete
and leave bronze and gold row-for-row identical to the uninterrupted run.

Each test starts from a copy of the reference site as it stood before the stage, kills the driver inside
the stage, then runs that stage and the ones after it to completion with the same run id.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from cltv.fingerprint import schema_fingerprint
from cltv.warehouse import connect
from tests.resilience.conftest import (
    Reference,
    Site,
    assert_same,
    fingerprints,
    kill_during,
    results_only,
    run_driver,
    scalar,
    stage_line,
)

RUN_ID = "reference"  # an Airflow retry re-runs the task with the run id of the run it belongs to


def assert_bronze_loaded_once(site: Site, files: int) -> None:
    """Every landing file loaded exactly once, and no bronze line twice."""
    loaded = scalar(site, "select count(*) from bronze.load_log where status = 'loaded'")
    distinct = scalar(site, "select count(distinct file_sha256) from bronze.load_log where status = 'loaded'")
    duplicated_rows = scalar(
        site,
        "select count(*) from (select _source_file, _source_row from bronze.raw_invoices "
        "group by all having count(*) > 1)",
    )
    assert (loaded, distinct, duplicated_rows) == (files, files, 0)


def test_kill_during_ingestion_then_rerun_loads_each_file_once(
    site_from: Callable[[str], Site], reference: Reference
) -> None:
    site = site_from("")
    kill_during(site, RUN_ID, "ingest", when="loaded sample-s3-00002.csv")
    # The kill fell mid-ingestion: files load side by side, so when the third file's line is logged the
    # others may or may not have committed; those in flight died with the process, whole.
    logged = scalar(site, "select count(*) from bronze.load_log")
    assert 1 <= logged < 5
    assert scalar(site, "select count(*) from bronze.raw_invoices") == 5_000 * logged

    run_driver(site, RUN_ID)

    assert_bronze_loaded_once(site, files=5)
    assert_same(fingerprints(site), reference.prints)


def test_kill_during_dbt_then_rerun_gives_identical_gold(
    site_from: Callable[[str], Site], reference: Reference
) -> None:
    site = site_from("ingest")
    # Killed after the incremental fact table appended this run's loads, before the marts built on it.
    appended = "OK created sql incremental model gold.fct_invoices"
    kill_during(site, RUN_ID, "dbt", when=appended, stages="dbt,ml,publish")

    run_driver(site, RUN_ID, stages="dbt,ml,publish")

    assert_same(fingerprints(site), reference.prints)


def test_kill_during_ml_then_rerun_gives_identical_gold(
    site_from: Callable[[str], Site], reference: Reference
) -> None:
    site = site_from("dbt")
    kill_during(site, RUN_ID, "ml", when="backtest 20", stages="ml,publish")  # after a fold
    # The ML tables are written in one transaction at the end: the killed attempt left nothing behind.
    assert_same(fingerprints(site), fingerprints(reference.after["dbt"]))

    run_driver(site, RUN_ID, stages="ml,publish")

    assert_same(fingerprints(site), reference.prints)


def stage_result(output: str, stage: str) -> dict:
    """What the driver printed as the stage's return value."""
    return json.loads(stage_line(output, stage)[3])


def all_of_bronze(site: Site) -> dict:
    """Bronze with every column, load ids and times included: a no-op leaves even those unchanged."""
    with connect(site.settings, read_only=True) as con:
        return schema_fingerprint(con, "bronze", exclude_columns=())


def test_rerunning_a_finished_as_of_leaves_bronze_untouched_and_gold_identical(
    site_from: Callable[[str], Site], reference: Reference
) -> None:
    """A second, new run of the same as_of: ingestion skips every file, gold results are recomputed equal.

    The new run id adds its own rows to the logs of runs (gold.model_runs, gold.model_metrics): a log of
    two runs is not the log of one, so those are compared apart.
    """
    site = site_from("publish")
    bronze_before = all_of_bronze(site)

    output = run_driver(site, "second-run")

    assert stage_result(output, "ingest") == {
        "rows_loaded": 0,
        "rows_rejected": 0,
        "files_loaded": 0,
        "files_skipped": 5,
        "files_hashed": 0,
    }
    assert all_of_bronze(site) == bronze_before
    assert_same(results_only(fingerprints(site)), results_only(reference.prints))
    runs = scalar(site, "select list(run_id order by run_id) from gold.model_runs")
    assert runs == ["reference", "second-run"]
    assert scalar(site, "select count(distinct model_version) from gold.model_runs") == 1
