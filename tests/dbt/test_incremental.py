"""fct_invoices and the silver tables it stands on build incrementally on new loads, and a full refresh
gives the very same rows."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from cltv.config import Settings
from cltv.dbt_runner import run_dbt
from cltv.ingest import ingest_landing
from cltv.warehouse import connect
from tests.dbt.conftest import line, query, write_bronze

pytestmark = pytest.mark.slow

COMPARED = (
    "silver.int_invoice_lines_classified",
    "silver.int_invoice_lines_excluded",
    "gold.fct_invoices",
)
SELECT = "+fct_invoices +int_invoice_lines_excluded"
BUILD = ("build", "--indirect-selection", "cautious")


def snapshot(settings: Settings) -> None:
    """Copy the compared tables to schema `incremental` for comparison after a full refresh."""
    with connect(settings) as con:
        con.execute("create schema if not exists incremental")
        for table in COMPARED:
            name = table.split(".")[1]
            con.execute(f"create or replace table incremental.{name} as select * from {table}")


def differences(settings: Settings) -> dict[str, tuple[int, int, int]]:
    """Per table: rows, rows only in the incremental build, rows only in the full refresh."""
    result = {}
    for table in COMPARED:
        copy = f"incremental.{table.split('.')[1]}"
        result[table] = query(
            settings,
            f"select (select count(*) from {table}), "
            f"(select count(*) from (select * from {copy} except all select * from {table})), "
            f"(select count(*) from (select * from {table} except all select * from {copy}))",
        )[0]
    return result


def test_incremental_builds_equal_a_full_refresh_on_literal_lines(settings: Settings, dbt_build):
    first = line("536365", "17850.0", "2010-12-01 08:26:00")
    write_bronze(
        settings,
        [
            first,
            first,
            line("536366", None, "2010-12-01 08:28:00"),
            line("536367", "13047", "2010-12-01 09:00:00"),
        ],
        "file-1.csv",
        loaded_at=datetime(2020, 1, 1),
    )
    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)
    assert query(settings, "select count(*) from gold.fct_invoices") == [(2,)]

    # the second file repeats a line of the first and brings a new one
    write_bronze(
        settings,
        [first, line("C536368", "13047", "2010-12-02 10:00:00", quantity=-1)],
        "file-2.csv",
        loaded_at=datetime(2020, 1, 2),
    )
    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)
    dbt_build({"as_of": "2010-12-31"}, command=BUILD, select=SELECT)  # nothing new: nothing added
    assert query(settings, "select invoice_no, _load_id from gold.fct_invoices order by 1") == [
        ("536365", "load-file-1.csv"),
        ("536367", "load-file-1.csv"),
        ("C536368", "load-file-2.csv"),
    ]
    snapshot(settings)

    dbt_build({"as_of": "2010-12-31"}, command=(*BUILD, "--full-refresh"), select=SELECT)

    assert differences(settings) == {
        "silver.int_invoice_lines_classified": (6, 0, 0),
        "silver.int_invoice_lines_excluded": (3, 0, 0),
        "gold.fct_invoices": (3, 0, 0),
    }


def test_incremental_builds_equal_a_full_refresh_on_the_real_files(tmp_path, settings: Settings, real_data):
    """Online Retail II (2009-2010) first, then Online Retail (2010-2011), which repeats 22,523 lines."""
    for name, path in (("first", real_data["online_retail_ii"]), ("second", real_data["online_retail"])):
        landing = tmp_path / name
        landing.mkdir()
        shutil.copy(path, landing / path.name)
        ingest_landing(settings, run_id=name, landing_dir=landing)
        run_dbt([*BUILD, "--select", SELECT], settings, {"as_of": "2011-12-09"})
    snapshot(settings)

    run_dbt([*BUILD, "--full-refresh", "--select", SELECT], settings, {"as_of": "2011-12-09"})

    found = differences(settings)
    assert all(only_incremental == only_full == 0 for _, only_incremental, only_full in found.values()), found
    assert found["gold.fct_invoices"][0] > 700_000
    # the overlap is kept from the file loaded first, Online Retail II, this time: all 22,523 overlapping
    # lines of Online Retail (their own repeats included, as Online Retail II repeats them too) are duplicates
    assert query(
        settings,
        "select count(*) from silver.int_invoice_lines_excluded where exclusion_reason = 'duplicate' "
        "and _source_file = 'online_retail.parquet' and invoice_date <= date '2010-12-09'",
    ) == [(22_523,)]
