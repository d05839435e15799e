"""A short, human summary of what the warehouse holds: printed at the end of `make run`."""

from __future__ import annotations

from cltv.config import Settings
from cltv.warehouse import connect

# (label, table, SQL expression counted); a table the run has not produced yet is reported as such.
FIGURES = (
    ("bronze rows loaded", "bronze.raw_invoices", "count(*)"),
    ("rows rejected", "bronze.rejected_rows", "count(*)"),
    ("silver invoice lines", "silver.stg_bronze__invoice_lines", "count(*)"),
    ("customers", "silver.stg_bronze__invoice_lines", "count(distinct customer_id)"),
    ("first invoice", "silver.stg_bronze__invoice_lines", "min(invoice_date)"),
    ("last invoice", "silver.stg_bronze__invoice_lines", "max(invoice_date)"),
)


def format_value(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else str(value)


def existing_tables(con) -> set[str]:
    rows = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    return {name for (name,) in rows}


def warehouse_summary(settings: Settings, seconds: float | None = None) -> str:
    if not settings.warehouse.exists():
        return f"No warehouse at {settings.warehouse} yet."
    lines = [f"Results: {settings.warehouse}"]
    with connect(settings, read_only=True) as con:
        tables = existing_tables(con)
        for label, table, expression in FIGURES:
            value = (
                con.execute(f"select {expression} from {table}").fetchone()[0] if table in tables else None
            )
            lines.append(f"  {label:<24} {format_value(value)}")
        built = sorted(t for t in tables if t.startswith(("silver.", "gold.")))
    lines.append(f"  dbt tables and views     {len(built)}: {', '.join(built)}")
    if seconds is not None:
        lines.append(f"  pipeline run time        {seconds:,.0f} s")
    return "\n".join(lines)
