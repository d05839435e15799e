"""Value tiers of revenue in a horizon window: the model's predicted tier and the customer's current tier.

The ML stage predicts a tier (none/low/mid/high) of the net revenue a customer will bring in the next
`horizon_days`: none is no positive revenue, and low/mid/high split buyers at the tertiles of the positive
training labels (`ml.train.tier_thresholds`). The ML stage records them in gold.model_runs
(`tier_low_max`, `tier_mid_max`). A serving file published before those columns existed gets them rebuilt:
the tertiles of the positive `label_revenue` of gold.customer_features at the run's training cutoffs
(gold.model_runs.training_cutoffs), exact while the ML stage trained on every labelled row, a close
estimate when it sampled.

**Current tier** is the same tiering applied to what the customer did in the window that just closed: net
revenue of the lines dated in (as_of - horizon_days, as_of], floored at 0 as the model's label is. So the
movement matrix compares like with like: last period's tier against the predicted tier of the next one.
"""

from __future__ import annotations

import duckdb

TIERS: tuple[str, ...] = ("none", "low", "mid", "high")  # as ml.config.TIERS, in order of value


def model_run_id(con: duckdb.DuckDBPyConnection, as_of: object) -> str | None:
    """The ML run whose predictions the publication holds for `as_of` (a re-run of an as_of replaces them)."""
    row = con.execute(
        "select max(run_id) from gold.customer_predictions where as_of_date = ?", [as_of]
    ).fetchone()
    return row[0] if row else None


def tier_thresholds(con: duckdb.DuckDBPyConnection, run_id: str | None) -> tuple[float, float] | None:
    """(low max, mid max) of the run's tier classifier; None when the run had no labelled buyers."""
    if run_id is None:
        return None
    stored = recorded_thresholds(con, run_id)
    if stored is not None:
        return stored
    low, high = con.execute(
        """
        with run as (
            select from_json(training_cutoffs, '["DATE"]') as cutoffs, horizon_days
            from gold.model_runs where run_id = ?
        )
        select quantile_cont(f.label_revenue::double, 1 / 3), quantile_cont(f.label_revenue::double, 2 / 3)
        from gold.customer_features as f
        join run on f.horizon_days = run.horizon_days and list_contains(run.cutoffs, f.cutoff_date)
        where f.label_revenue > 0
        """,
        [run_id],
    ).fetchone()
    return None if low is None else (float(low), float(high))


def recorded_thresholds(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[float, float] | None:
    """The thresholds the ML stage stored with the run, or None when it stored none (or predates them)."""
    columns = {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'gold' and table_name = 'model_runs'"
        ).fetchall()
    }
    if not {"tier_low_max", "tier_mid_max"} <= columns:
        return None
    row = con.execute(
        "select tier_low_max, tier_mid_max from gold.model_runs where run_id = ?", [run_id]
    ).fetchone()
    if row is None or row[0] is None or row[1] is None:
        return None
    return (float(row[0]), float(row[1]))


def tier_of(revenue: float, thresholds: tuple[float, float] | None) -> str | None:
    """The tier of one amount: none when nothing positive, else low <= t1 < mid <= t2 < high."""
    if revenue <= 0:
        return "none"
    if thresholds is None:
        return None
    low, high = thresholds
    return "low" if revenue <= low else "mid" if revenue <= high else "high"


def tier_sql(column: str) -> str:
    """`tier_of` as SQL over `column`; the thresholds are the parameters $tier_low and $tier_high."""
    return (
        f"case when {column} <= 0 then 'none' when $tier_low is null then null "
        f"when {column} <= $tier_low then 'low' when {column} <= $tier_high then 'mid' else 'high' end"
    )
