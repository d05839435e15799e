"""cltv.fingerprint: equal exactly for the same multiset of rows, whatever the order or the volatile columns.

(It lives here because the resilience tests are what rely on it; tests/cltv/ is the lead's to reorganise.)
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from cltv.fingerprint import TableFingerprint, differences, schema_fingerprint, table_fingerprint

ROWS = [(1, "a", 2.5, "run-1"), (2, "b", None, "run-1"), (3, None, 7.0, "run-1")]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("create schema gold")
    yield connection
    connection.close()


def make_table(con: duckdb.DuckDBPyConnection, name: str, rows: list[tuple]) -> None:
    con.execute(f"create table gold.{name} (id integer, code varchar, amount double, run_id varchar)")
    con.executemany(f"insert into gold.{name} values (?, ?, ?, ?)", rows)


def fingerprint_of(con: duckdb.DuckDBPyConnection, rows: list[tuple], name: str) -> TableFingerprint:
    make_table(con, name, rows)
    return table_fingerprint(con, "gold", name)


def test_row_order_and_volatile_columns_do_not_change_the_fingerprint(con: duckdb.DuckDBPyConnection) -> None:
    first = fingerprint_of(con, ROWS, "first")
    other_run_reversed = [(*row[:3], "run-2") for row in reversed(ROWS)]

    second = fingerprint_of(con, other_run_reversed, "second")

    assert first == second
    assert first.rows == 3
    assert first.columns == ("id", "code", "amount")


@pytest.mark.parametrize(
    "changed",
    [
        [(1, "a", 2.5, "run-1"), (2, "b", 0.0, "run-1"), (3, None, 7.0, "run-1")],  # null became 0
        [(1, "a", 2.5, "run-1"), (2, "b", None, "run-1")],  # a row missing
        [*ROWS, ROWS[0]],  # a row duplicated
        [(1, "b", 2.5, "run-1"), (2, "a", None, "run-1"), (3, None, 7.0, "run-1")],  # values swapped
    ],
)
def test_any_change_of_content_changes_the_fingerprint(
    con: duckdb.DuckDBPyConnection, changed: list[tuple]
) -> None:
    assert fingerprint_of(con, ROWS, "first") != fingerprint_of(con, changed, "second")


def test_a_volatile_column_is_compared_when_not_excluded(con: duckdb.DuckDBPyConnection) -> None:
    make_table(con, "first", ROWS)
    make_table(con, "second", [(*row[:3], "run-2") for row in ROWS])

    assert table_fingerprint(con, "gold", "first", ()) != table_fingerprint(con, "gold", "second", ())


def test_schema_fingerprints_name_the_tables_that_differ(con: duckdb.DuckDBPyConnection) -> None:
    make_table(con, "same", ROWS)
    make_table(con, "changed", ROWS)
    before = schema_fingerprint(con, "gold")
    con.execute("update gold.changed set amount = 9 where id = 3")
    con.execute("create table gold.added as select 1 as id")

    after = schema_fingerprint(con, "gold")

    assert set(differences(before, after)) == {"gold.changed", "gold.added"}
    assert differences(before, before) == {}
    assert "gold.same" not in schema_fingerprint(con, "gold", exclude_tables={"gold.same"})
