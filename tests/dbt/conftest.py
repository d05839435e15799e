"""Helpers for dbt tests: bronze rows written straight into a tmp warehouse, then a real `dbt build`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import pytest

from cltv.config import Settings
from cltv.dbt_runner import run_dbt
from cltv.ingest import ensure_bronze_schema
from cltv.warehouse import connect


def line(
    invoice_no: str,
    customer_id: str | None,
    invoice_date: str,
    quantity: int = 1,
    unit_price: float = 10.0,
    stock_code: str = "85123A",
    description: str = "WHITE HANGING HEART T-LIGHT HOLDER",
    country: str = "United Kingdom",
) -> dict[str, Any]:
    """One bronze line with sensible defaults, so a test names only what it is about."""
    return {
        "invoice_no": invoice_no,
        "stock_code": stock_code,
        "description": description,
        "quantity": quantity,
        "invoice_date": datetime.fromisoformat(invoice_date),
        "unit_price": unit_price,
        "customer_id": customer_id,
        "country": country,
    }


def write_bronze(
    settings: Settings,
    lines: Iterable[Mapping[str, Any]],
    source_file: str = "test.csv",
    loaded_at: datetime = datetime(2020, 1, 1),
    sheet: str | None = None,
) -> None:
    """Append lines to `bronze.raw_invoices` as one load of `source_file` (rows of `sheet` for a workbook),
    logged in `bronze.load_log` as `cltv.ingest` does (silver checks that every line traces back to its
    load)."""
    load_id = f"load-{source_file}"
    rows = [
        (
            *(ln[key] for key in ("invoice_no", "stock_code", "description", "quantity", "invoice_date")),
            ln["unit_price"],
            ln["customer_id"],
            ln["country"],
            source_file,
            sheet,
            row_number,
            load_id,
            loaded_at,
        )
        for row_number, ln in enumerate(lines, start=1)
    ]
    with connect(settings) as con:
        ensure_bronze_schema(con)
        if rows:
            con.executemany(f"insert into bronze.raw_invoices values ({', '.join(['?'] * 13)})", rows)
        con.execute(
            "insert or replace into bronze.load_log (load_id, run_id, source_file, file_format, status, "
            "rows_in_file, rows_loaded, rows_rejected, message, started_at, finished_at) "
            "values (?, 'test', ?, 'csv', 'loaded', ?, ?, 0, '', ?, ?)",
            [load_id, source_file, len(rows), len(rows), loaded_at, loaded_at],
        )


@pytest.fixture
def dbt_build(settings: Settings) -> Callable[..., Any]:
    """Run `dbt build` (or another command) on the test's warehouse with the given vars."""

    def build(dbt_vars: Mapping[str, Any], command: tuple[str, ...] = ("build",), select: str | None = None):
        args = list(command) + (["--select", select] if select else [])
        return run_dbt(args, settings, dbt_vars)

    return build


def query(settings: Settings, sql: str) -> list[tuple]:
    with connect(settings, read_only=True) as con:
        return con.execute(sql).fetchall()
