"""A short, human summary of what the warehouse holds: printed at the end of `make run`."""

from __future__ import annotations

from decimal import Decimal

from cltv.config import Settings
from cltv.warehouse import connect

LATEST_PREDICTIONS = "as_of_date = (select max(as_of_date) from gold.customer_predictions)"
# (label, table, SQL expression counted); a table the run has not produced yet is reported as such.
FIGURES = (
    ("bronze rows loaded", "bronze.raw_invoices", "count(*)"),
    ("rows rejected", "bronze.rejected_rows", "count(*)"),
    ("silver invoice lines", "silver.stg_bronze__invoice_lines", "count(*)"),
    ("customers", "silver.stg_bronze__invoice_lines", "count(distinct customer_id)"),
    ("first invoice", "silver.stg_bronze__invoice_lines", "min(invoice_date)"),
    ("last invoice", "silver.stg_bronze__invoice_lines", "max(invoice_date)"),
    ("customer invoice lines", "gold.fct_invoices", "count(*)"),
    ("segmented customers", "gold.rfm_segments", "count(*)"),
    ("customers predicted", "gold.customer_predictions", f"count(*) filter (where {LATEST_PREDICTIONS})"),
    (
        "predicted revenue",
        "gold.customer_predictions",
        f"round(sum(predicted_revenue) filter (where {LATEST_PREDICTIONS}), 2)",
    ),
    ("model champion", "gold.model_runs", "arg_max(champion, as_of)"),
    ("model trained as of", "gold.model_runs", "arg_max(trained_as_of, as_of)"),
    (
        "failed quality checks",
        "gold.dq_results",
        "count(*) filter (where outcome in ('fail', 'error') "
        "and run_id = (select arg_max(run_id, checked_at) from gold.dq_results))",
    ),
)


def format_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}"
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
    lines.append(f"  silver and gold tables   {len(built)}")
    if seconds is not None:
        lines.append(f"  pipeline run time        {seconds:,.0f} s")
    serving = settings.serving_dir / "cltv.duckdb"
    if serving.exists():
        lines.append(f"Published for BI readers: {serving} (make dashboard to look at it)")
    return "\n".join(lines)
