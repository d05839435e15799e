"""Reading `gold.customer_features` in bounded memory: only the needed columns, float32, sampled, batched.

The ML stage reads nothing else of the warehouse (besides its own gold tables). Money arrives as DECIMAL
and is cast to float in SQL so that pandas never holds Python Decimals. A customer sample is taken by a
hash of the customer id, so that the same warehouse always gives the same training set and a sampled
customer keeps all of their cutoffs. The hash is salted: it is independent of the one customer_features
samples its training cutoffs by (macro customer_sample_bucket), so the rows that sample left are spread
evenly over this one's buckets and a share of buckets keeps that share of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from ml.config import FEATURES, LABEL, MODEL_FEATURES

TABLE = "gold.customer_features"
# Extra columns the baselines need besides the model features.
ID_COLUMNS = ("customer_id", "cutoff_date")
HASH_BUCKETS = 1_000_000
# A customer's bucket: DuckDB's hash, fast enough to compute inline on every row read (md5 took ~1.3 s a
# run over a 100M-line warehouse's 760K customers), salted to be independent of customer_features' sample.
SAMPLE_BUCKET = f"hash(customer_id, 'cltv-ml-sample') % {HASH_BUCKETS}"


def _select_list(with_label: bool) -> str:
    columns = [
        "customer_id::varchar as customer_id",
        "cutoff_date::date as cutoff_date",
        *(f"{name}::float as {name}" for name in FEATURES),
    ]
    if with_label:
        columns.append(f"greatest({LABEL}, 0)::double as {LABEL}")
    return ", ".join(columns)


def _date_list(cutoffs: Sequence[date]) -> str:
    return ", ".join(f"date '{cutoff.isoformat()}'" for cutoff in cutoffs)


def _labelled(cutoffs: Sequence[date]) -> str:
    """Filter: the training sample's labelled rows of these cutoffs, for the horizon bound as parameter.

    Only the sample (`is_training_sample`): a cutoff that is also an earlier run's as_of holds every
    customer, others their sample alone, and training on the sample whichever way the cutoff was built
    makes backfills in any order train the same models (customer_features, macro feature_training_samples).
    """
    return (
        f"cutoff_date in ({_date_list(cutoffs)}) and is_training_sample and {LABEL} is not null "
        "and horizon_days = ?"
    )


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    rows = con.execute(
        "select 1 from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchall()
    return bool(rows)


def labelled_counts(
    con: duckdb.DuckDBPyConnection, cutoffs: Sequence[date], horizon_days: int
) -> dict[date, tuple[int, int]]:
    """Per cutoff: labelled customers and buyers among them (labels built for this horizon only)."""
    if not cutoffs or not table_exists(con, "gold", "customer_features"):
        return {}
    rows = con.execute(
        f"""
        select cutoff_date::date, count(*), count(*) filter (where {LABEL} > 0)
        from {TABLE}
        where {_labelled(cutoffs)}
        group by 1
        """,
        [horizon_days],
    ).fetchall()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def _sample_clause(con: duckdb.DuckDBPyConnection, where: str, params: list, cap: int | None) -> str:
    """A filter keeping a deterministic share of customers so that about `cap` rows remain."""
    if cap is None:
        return ""
    (rows,) = con.execute(f"select count(*) from {TABLE} where {where}", params).fetchone()
    if rows <= cap:
        return ""
    keep = int(HASH_BUCKETS * cap / rows)
    return f" and {SAMPLE_BUCKET} < {keep}"


def load_labelled(
    con: duckdb.DuckDBPyConnection,
    cutoffs: Sequence[date],
    horizon_days: int,
    max_rows: int | None = None,
) -> pd.DataFrame:
    """Features and label of the given cutoffs, labels for `horizon_days` only, negative labels set to 0."""
    if not cutoffs:
        return empty_frame(with_label=True)
    where = _labelled(cutoffs)
    sample = _sample_clause(con, where, [horizon_days], max_rows)
    frame = con.execute(
        f"select {_select_list(True)} from {TABLE} where {where}{sample} order by cutoff_date, customer_id",
        [horizon_days],
    ).df()
    return _typed(frame)


def load_scoring_batches(
    con: duckdb.DuckDBPyConnection, cutoff: date, batch_rows: int
) -> Iterator[pd.DataFrame]:
    """Every customer known at `cutoff`, in batches of at most `batch_rows` rows, ordered by id."""
    reader = con.sql(
        f"select {_select_list(False)} from {TABLE} where cutoff_date = $cutoff order by customer_id",
        params={"cutoff": cutoff},
    ).to_arrow_reader(batch_rows)
    for batch in reader:
        yield _typed(batch.to_pandas())


def load_scoring(con: duckdb.DuckDBPyConnection, cutoff: date, max_rows: int | None = None) -> pd.DataFrame:
    """Customers known at `cutoff` in one frame: all, or a deterministic sample of about `max_rows`."""
    sample = _sample_clause(con, "cutoff_date = ?", [cutoff], max_rows)
    frame = con.execute(
        f"select {_select_list(False)} from {TABLE} where cutoff_date = ?{sample} order by customer_id",
        [cutoff],
    ).df()
    return _typed(frame)


def empty_frame(with_label: bool) -> pd.DataFrame:
    columns = {"customer_id": pd.Series(dtype=object), "cutoff_date": pd.Series(dtype="datetime64[s]")}
    columns.update({name: pd.Series(dtype=np.float32) for name in FEATURES})
    if with_label:
        columns[LABEL] = pd.Series(dtype=np.float64)
    return pd.DataFrame(columns)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for name in FEATURES:
        frame[name] = frame[name].astype(np.float32)
    frame["customer_id"] = frame["customer_id"].astype(object)
    frame["cutoff_date"] = pd.to_datetime(frame["cutoff_date"]).dt.date
    return frame


def matrix(frame: pd.DataFrame) -> np.ndarray:
    """The model's input: the feature columns in their fixed order, float32 (NaN where undefined).

    The frame must hold the BG/NBD columns (ml.baselines.with_bgnbd_features or the scoring batch's own).
    """
    return frame[list(MODEL_FEATURES)].to_numpy(dtype=np.float32)
