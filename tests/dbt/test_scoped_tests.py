"""The costliest data tests of the append-only incremental models read, on an incremental run, only the rows
of the loads they have not passed on yet, and still catch what they exist to catch; a first build, a full
refresh or a rebuild from scratch tests every row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from cltv.config import Settings
from cltv.dbt_runner import DbtError
from cltv.warehouse import connect
from tests.dbt.conftest import line, query, write_bronze

pytestmark = pytest.mark.slow

AS_OF = {"as_of": "2010-12-31"}
SELECT = "+fct_invoices +int_invoices_aggregated"
CAUTIOUS = (
    "--indirect-selection",
    "cautious",
)  # no relationships to dimensions this selection leaves unbuilt
UNIQUE_LINES = "unique_keys_of_untested_loads_int_invoice_lines_classified_invoice_line_id__invoiced_at"
UNIQUE_FACTS = "unique_keys_of_untested_loads_fct_invoices_invoice_line_id__invoiced_at"
SCOPED_TESTS = (
    UNIQUE_LINES,
    "accepted_values_int_invoice_lines_classified_exclusion_reason__duplicate__missing_customer__non_product__invalid_price",
    UNIQUE_FACTS,
    "expression_is_true_fct_invoices_revenue_cast_quantity_unit_price_as_decimal_18_3_",
    "expression_is_true_fct_invoices_is_cancellation_quantity_0_or_not_is_cancellation",
)
FIRST, SECOND = "load-file-1.csv", "load-file-2.csv"
# A faulty append, written straight into a model: the rows of a new load, stamped after every other load
# as cltv.ingest stamps it (macro is_new_load reads such loads, and scoped tests look for them from there).
BAD_LOAD = "'load-bad' as _load_id, timestamp '2020-01-03' as _loaded_at"


def scoped_tests_sql(built: Any) -> dict[str, str]:
    """The compiled SQL of each scoped test that the dbt invocation ran."""
    return {r.node.name: r.node.compiled_code for r in built.result.results if r.node.name in SCOPED_TESTS}


def recorded_loads(settings: Settings) -> set[tuple[str, str, int]]:
    """(model, load, how many of the model's scoped tests passed on it) of the record."""
    return set(
        query(
            settings,
            "select model_relation, load_id, count(distinct test_id) from main.dbt_tested_loads group by all",
        )
    )


def build_two_loads(settings: Settings, dbt_build: Callable[..., Any]) -> Any:
    """Two loads of two lines each, built one after the other; the second build's result."""
    write_bronze(
        settings,
        [line("536365", "17850", "2010-12-01 08:26:00"), line("536366", "13047", "2010-12-01 09:00:00")],
        "file-1.csv",
        loaded_at=datetime(2020, 1, 1),
    )
    first = dbt_build(AS_OF, command=("build", *CAUTIOUS), select=SELECT)
    assert set(scoped_tests_sql(first)) == set(SCOPED_TESTS)
    # a first build tests every row
    assert all("_load_id in" not in sql for sql in scoped_tests_sql(first).values())
    write_bronze(
        settings,
        [line("536367", "12583", "2010-12-02 10:00:00"), line("C536368", "12583", "2010-12-02 11:00:00", -1)],
        "file-2.csv",
        loaded_at=datetime(2020, 1, 2),
    )
    return dbt_build(AS_OF, command=("build", *CAUTIOUS), select=SELECT)


def recorded_stamps(settings: Settings) -> set[tuple[str, datetime | None]]:
    return set(query(settings, "select distinct load_id, loaded_at from main.dbt_tested_loads"))


def test_the_record_keeps_each_loads_stamp_and_an_older_record_gains_the_column(
    settings: Settings, dbt_build
):
    """The stamps bound where the next lookups start (macro tested_loads_bound); a record of an older cltv
    has none: on-run-start adds the column, and its tests look at every row's load once more."""
    build_two_loads(settings, dbt_build)
    assert recorded_stamps(settings) == {(FIRST, datetime(2020, 1, 1)), (SECOND, datetime(2020, 1, 2))}

    with connect(settings) as con:
        con.execute("alter table main.dbt_tested_loads drop column loaded_at")
    third_line = line("536369", "12583", "2010-12-03 10:00:00")
    write_bronze(settings, [third_line], "file-3.csv", datetime(2020, 1, 3))
    third = dbt_build(AS_OF, command=("build", *CAUTIOUS), select=SELECT)

    for name, compiled in scoped_tests_sql(third).items():
        assert "_load_id in ('load-file-3.csv')" in compiled, name
    third_stamp = ("load-file-3.csv", datetime(2020, 1, 3))
    assert recorded_stamps(settings) == {(FIRST, None), (SECOND, None), third_stamp}


def failing_dbt_test(dbt_build: Callable[..., Any], select: str) -> str:
    """Run `dbt test` on `select`, which must fail; the failure summary (one line per failed test)."""
    with pytest.raises(DbtError) as failure:
        dbt_build(AS_OF, command=("test", *CAUTIOUS), select=select)
    return str(failure.value)


def test_an_incremental_run_tests_the_new_load_and_a_rebuild_tests_every_row(settings: Settings, dbt_build):
    second = build_two_loads(settings, dbt_build)

    sql = scoped_tests_sql(second)
    assert set(sql) == set(SCOPED_TESTS)
    for name, compiled in sql.items():
        assert f"_load_id in ('{SECOND}')" in compiled, name
        assert FIRST not in compiled, name
    # unique still reads the kept lines: the new keys are looked up among all of them that share their
    # period, as a key hashes the line's time (the new load's lines are from 10:00 to 11:00)
    assert sql[UNIQUE_LINES].count('"silver"."int_invoice_lines_classified" where not is_duplicate)') == 2
    period = "invoiced_at between timestamp '2010-12-02 10:00:00' and timestamp '2010-12-02 11:00:00'"
    for name in (UNIQUE_LINES, UNIQUE_FACTS):
        assert period in sql[name], name
    assert recorded_loads(settings) == {
        ("silver.int_invoice_lines_classified", FIRST, 2),
        ("silver.int_invoice_lines_classified", SECOND, 2),
        ("gold.fct_invoices", FIRST, 3),
        ("gold.fct_invoices", SECOND, 3),
    }

    refreshed = dbt_build(AS_OF, command=("build", "--full-refresh", *CAUTIOUS), select=SELECT)
    assert set(scoped_tests_sql(refreshed)) == set(SCOPED_TESTS)
    assert all("_load_id in" not in compiled for compiled in scoped_tests_sql(refreshed).values())

    # rebuilt from scratch without its tests: the model's record is gone, the next tests read every row
    dbt_build(AS_OF, command=("run", "--full-refresh"), select="int_invoice_lines_classified")
    assert recorded_loads(settings) == {("gold.fct_invoices", FIRST, 3), ("gold.fct_invoices", SECOND, 3)}
    retested = dbt_build(AS_OF, command=("test", *CAUTIOUS), select="int_invoice_lines_classified")
    assert UNIQUE_LINES in scoped_tests_sql(retested)
    assert all("_load_id in" not in compiled for compiled in scoped_tests_sql(retested).values())


@pytest.mark.parametrize("copied_from", ["an earlier load", "the same new load"])
def test_a_duplicate_key_in_a_new_load_fails_unique(settings: Settings, dbt_build, copied_from: str):
    """A faulty append (simulated by writing the rows straight into the model) repeats a kept line's key:
    the scoped unique test fails whether the other copy is an old row or a row of the same new load, and
    fails again when retried, as the load it failed on is not recorded as passed."""
    build_two_loads(settings, dbt_build)
    key = "invoice_line_id" if copied_from == "an earlier load" else "invoice_line_id + 1"
    copies = 1 if copied_from == "an earlier load" else 2
    with connect(settings) as con:
        for _ in range(copies):
            con.execute(
                "insert into silver.int_invoice_lines_classified "
                f"select * replace ({key} as invoice_line_id, {BAD_LOAD}) "
                "from silver.int_invoice_lines_classified where invoice_no = '536365'"
            )

    for _attempt in ("first", "retry"):
        failure = failing_dbt_test(dbt_build, UNIQUE_LINES)
        assert f"{UNIQUE_LINES}: fail: Got 1 result" in failure
    assert query(settings, "select count(*) from main.dbt_tested_loads where load_id = 'load-bad'") == [(0,)]


def test_wrong_values_in_a_new_load_fail_and_in_a_tested_load_need_an_audit(settings: Settings, dbt_build):
    """New fact rows with a revenue that is not quantity * unit price, or none, fail their tests (on every
    attempt). The same fault planted in a load that already passed is not read again by an incremental run
    (the rows the scoped tests skip), and an audit with `test_every_load` reads every row and finds it."""
    build_two_loads(settings, dbt_build)
    with connect(settings) as con:
        con.execute(
            f"""
            insert into gold.fct_invoices
            select * replace (invoice_line_id + 1 as invoice_line_id, revenue + 1 as revenue, {BAD_LOAD})
            from gold.fct_invoices where invoice_no = '536365'
            union all
            select * replace (invoice_line_id + 2 as invoice_line_id, null as revenue, {BAD_LOAD})
            from gold.fct_invoices where invoice_no = '536365'
            """
        )
    revenue_test = "expression_is_true_fct_invoices_revenue_cast_quantity_unit_price_as_decimal_18_3_"
    for _attempt in ("first", "retry"):
        failure = failing_dbt_test(dbt_build, "fct_invoices")
        assert f"{revenue_test}: fail: Got 1 result" in failure
        assert "not_null_fct_invoices_revenue: fail: Got 1 result" in failure

    with connect(settings) as con:
        con.execute("delete from gold.fct_invoices where _load_id = 'load-bad'")
        con.execute("update gold.fct_invoices set revenue = revenue + 1 where invoice_no = '536365'")
    passed = dbt_build(AS_OF, command=("test", *CAUTIOUS), select=revenue_test)
    # every load left has passed: the test reads no row
    assert '"gold"."fct_invoices" where false)' in scoped_tests_sql(passed)[revenue_test]
    audit = {**AS_OF, "test_every_load": True}
    with pytest.raises(DbtError, match=f"{revenue_test}: fail: Got 1 result"):
        dbt_build(audit, command=("test", *CAUTIOUS), select=revenue_test)
