"""Helpers for dbt tests: bronze rows written straight into a tmp warehouse, then a real `dbt build`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import pytest

from cltv.config import Settings
from cltv.dbt_runner import run_dbt
from cltv.warehouse import connect

BRONZE_COLUMNS = (
    "invoice_no varchar, stock_code varchar, description varchar, quantity bigint, invoice_date timestamp, "
    "unit_price double, customer_id varchar, country varchar, _source_file varchar, _source_sheet varchar, "
    "_source_row bigint, _load_id varchar, _loaded_at timestamp"
)


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
) -> None:
    """Append lines to `bronze.raw_invoices` with lineage, creating the table if needed."""
    rows = [
        (
            *(ln[key] for key in ("invoice_no", "stock_code", "description", "quantity", "invoice_date")),
            ln["unit_price"],
            ln["customer_id"],
            ln["country"],
            source_file,
            None,
            row_number,
            f"load-{source_file}",
            loaded_at,
        )
        for row_number, ln in enumerate(lines, start=1)
    ]
    with connect(settings) as con:
        con.execute("create schema if not exists bronze")
        con.execute(f"create table if not exists bronze.raw_invoices ({BRONZE_COLUMNS})")
        con.executemany(f"insert into bronze.raw_invoices values ({', '.join(['?'] * 13)})", rows)


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
