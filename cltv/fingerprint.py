"""Row-for-row fingerprints of a warehouse schema, to prove two runs left the same data behind.

A table's fingerprint is its row count and the sum of DuckDB's `hash()` of every row (over the columns
kept), so it does not depend on row order or physical layout: two warehouses built by different runs, in
different orders, compare equal exactly when they hold the same multiset of rows.

Columns that legitimately differ between two correct runs of the same data are left out (`VOLATILE_COLUMNS`):

- when and by which load a row arrived: `_loaded_at`, `_load_id` (bronze, carried into `fct_invoices`),
  `load_id`, `started_at`, `finished_at` (bronze.load_log);
- when the landing file was last written: `file_mtime_ns` (bronze.load_log; two copies of the same file);
- which run wrote it and when: `run_id`, `checked_at` (gold.dq_results), `published_at`;
- where a run put its artifacts and their hash: `artifact_path`, `artifact_sha256` (gold.model_runs; the
  artifacts include `metrics.json`, which names the run). The model version is derived from the data and
  the fitted model, so it is compared.

Tables that are logs of attempts, not results (`RUN_LOG_TABLES`), gain a row per run or per attempt by
design (a killed attempt's quality checks stay recorded; a second run of an as_of adds a model_runs row);
callers that compare results across different run histories leave them out with `exclude_tables`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from cltv.sql import quoted

VOLATILE_COLUMNS = frozenset(
    {
        "_loaded_at",
        "_load_id",
        "load_id",
        "started_at",
        "finished_at",
        "file_mtime_ns",
        "run_id",
        "checked_at",
        "published_at",
        "artifact_path",
        "artifact_sha256",
    }
)
RUN_LOG_TABLES = frozenset({"bronze.load_log", "gold.dq_results", "gold.model_runs", "gold.model_metrics"})


@dataclass(frozen=True, order=True)
class TableFingerprint:
    """Rows and an order-independent content hash of one table, over `columns`."""

    rows: int
    content_hash: int
    columns: tuple[str, ...]


def base_tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        """
        select table_name from information_schema.tables
        where table_catalog = current_database() and table_schema = ? and table_type = 'BASE TABLE'
        order by table_name
        """,
        [schema],
    ).fetchall()
    return [name for (name,) in rows]


def kept_columns(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, exclude: Iterable[str]
) -> tuple[str, ...]:
    excluded = {name.lower() for name in exclude}
    rows = con.execute(
        """
        select column_name from information_schema.columns
        where table_catalog = current_database() and table_schema = ? and table_name = ?
        order by ordinal_position
        """,
        [schema, table],
    ).fetchall()
    return tuple(name for (name,) in rows if name.lower() not in excluded)


def row_hash_sum(con: duckdb.DuckDBPyConnection, relation: str, row: str = "t") -> tuple[int, int]:
    """Rows of `relation` (aliased `t`) and the sum of DuckDB's hash() of `row` over them.

    A sum does not depend on row order, so two tables with the same rows in any order agree. Both the
    fingerprints here and the publication checksums of cltv.publish are this one computation.
    """
    rows, total = con.execute(
        f"select count(*), coalesce(sum(hash({row})::hugeint), 0) from {relation} as t"
    ).fetchone()
    return int(rows), int(total)


def table_fingerprint(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    exclude_columns: Iterable[str] = VOLATILE_COLUMNS,
) -> TableFingerprint:
    """Count and sum of row hashes over the table's columns minus `exclude_columns`."""
    columns = kept_columns(con, schema, table, exclude_columns)
    row = "(" + ", ".join(quoted(c) for c in columns) + ")" if columns else "0"
    # One-column rows are wrapped in a struct so that hash() sees a row, never a bare value.
    rows, content_hash = row_hash_sum(con, f"{quoted(schema)}.{quoted(table)}", f"{{'r': {row}}}")
    return TableFingerprint(rows, content_hash, columns)


def schema_fingerprint(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    exclude_columns: Iterable[str] = VOLATILE_COLUMNS,
    exclude_tables: Iterable[str] = (),
) -> dict[str, TableFingerprint]:
    """`schema.table` -> fingerprint, for every base table of the schema not in `exclude_tables`."""
    excluded = set(exclude_tables)
    columns = tuple(exclude_columns)
    return {
        f"{schema}.{table}": table_fingerprint(con, schema, table, columns)
        for table in base_tables(con, schema)
        if f"{schema}.{table}" not in excluded
    }


def differences(
    left: dict[str, TableFingerprint], right: dict[str, TableFingerprint]
) -> dict[str, tuple[TableFingerprint | None, TableFingerprint | None]]:
    """The tables whose fingerprints differ (or exist on one side only); empty when the two are equal."""
    return {
        name: (left.get(name), right.get(name))
        for name in sorted(set(left) | set(right))
        if left.get(name) != right.get(name)
    }
