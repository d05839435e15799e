"""The sample generator: deterministic, the requested size, and the phenomena the pipeline must handle."""

from __future__ import annotations

import tracemalloc
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from scipy.stats import spearmanr

from cltv.sample import SampleSpec, generate_sample, main, split_exactly

SMALL = SampleSpec(rows=60_000, seed=7, rows_per_file=1_000_000)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate_sample(SMALL, out)
    return out


@pytest.fixture(scope="module")
def lines(sample_dir: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"create table v as select * from read_csv('{sample_dir}/*.csv', all_varchar=true)")
    con.execute(
        """create table t as select InvoiceNo, StockCode, Quantity::bigint as Quantity,
        strptime(InvoiceDate, '%Y-%m-%d %H:%M:%S') as InvoiceDate, UnitPrice::double as UnitPrice,
        nullif(CustomerID, '')::int as CustomerID, Country from v"""
    )
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    return con.execute(sql).fetchone()[0]


def file_bytes(files: list[Path]) -> list[bytes]:
    return [f.read_bytes() for f in files]


def test_same_spec_gives_byte_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    spec = SampleSpec(rows=5_000, seed=3, fmt="parquet", rows_per_file=2_000)
    first = generate_sample(spec, tmp_path / "a")
    second = generate_sample(spec, tmp_path / "b")
    other = generate_sample(
        SampleSpec(rows=5_000, seed=4, fmt="parquet", rows_per_file=2_000), tmp_path / "c"
    )
    assert file_bytes(first.files) == file_bytes(second.files)
    assert file_bytes(first.files) != file_bytes(other.files)


def test_row_count_layout_and_header(sample_dir: Path, lines: duckdb.DuckDBPyConnection) -> None:
    header = (sample_dir / "sample-s7-00001.csv").read_text().splitlines()[0]
    assert header == "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
    assert abs(scalar(lines, "select count(*) from t") - SMALL.rows) < 0.01 * SMALL.rows
    assert scalar(lines, r"select bool_and(regexp_full_match(InvoiceNo, 'C?\d{6}')) from t")
    assert scalar(lines, r"select bool_and(regexp_full_match(CustomerID::varchar, '\d{5}')) from t")
    assert scalar(lines, "select bool_and(round(UnitPrice, 3) = UnitPrice and UnitPrice >= 0) from t")


def test_invoice_numbers_increase_with_time(lines: duckdb.DuckDBPyConnection) -> None:
    unordered = scalar(
        lines,
        """with invoices as (select ltrim(InvoiceNo, 'C')::int n, min(InvoiceDate) d from t group by 1),
        running as (select d, max(d) over (order by n rows between unbounded preceding and 1 preceding) m
                    from invoices)
        select count(*) from running where d < m""",
    )
    assert unordered == 0


def test_dates_within_range_and_shop_hours(lines: duckdb.DuckDBPyConnection) -> None:
    first, last, earliest, latest = lines.execute(
        "select min(InvoiceDate)::date, max(InvoiceDate)::date, min(hour(InvoiceDate)), "
        "max(hour(InvoiceDate)) from t"
    ).fetchone()
    assert SMALL.start <= first <= last <= SMALL.end
    assert 8 <= earliest <= latest <= 19


def test_cancellations_reverse_an_earlier_purchase_of_the_same_customer(
    lines: duckdb.DuckDBPyConnection,
) -> None:
    share, all_negative = lines.execute(
        "select avg((InvoiceNo like 'C%')::int), bool_and(Quantity < 0) filter (InvoiceNo like 'C%') from t"
    ).fetchone()
    unmatched = scalar(
        lines,
        """select count(*) from t c where c.InvoiceNo like 'C%' and c.StockCode != 'D' and not exists (
            select 1 from t o where o.InvoiceNo not like 'C%' and o.CustomerID = c.CustomerID
            and o.StockCode = c.StockCode and o.InvoiceDate < c.InvoiceDate and o.Quantity >= -c.Quantity)""",
    )
    assert 0.01 < share < 0.03
    assert all_negative
    assert unmatched == 0
    assert scalar(lines, "select count(*) from t where InvoiceNo like 'C%' and CustomerID is null") == 0


def test_guests_duplicates_non_product_codes_and_zero_prices(lines: duckdb.DuckDBPyConnection) -> None:
    guests = scalar(lines, "select avg((CustomerID is null)::int) from t")
    duplicates = scalar(
        lines, "select 1 - (select count(*) from (select distinct * from v)) / count(*) from v"
    )
    codes = {
        r[0] for r in lines.execute("select distinct StockCode from t where StockCode ~ '^[A-Z]'").fetchall()
    }
    zero_prices = scalar(lines, "select count(*) from t where UnitPrice = 0")
    assert 0.13 < guests < 0.21
    assert 0.01 <= duplicates < 0.05
    assert {"POST", "M", "BANK CHARGES", "D"} <= codes
    assert zero_prices > 0


def test_uk_dominates_several_countries(lines: duckdb.DuckDBPyConnection) -> None:
    uk_share, countries = lines.execute(
        "select avg((Country = 'United Kingdom')::int), count(distinct Country) from t"
    ).fetchone()
    assert 0.8 < uk_share < 0.97
    assert countries >= 8


def test_q4_has_more_revenue_per_day_than_q2_and_q3(lines: duckdb.DuckDBPyConnection) -> None:
    per_day = dict(
        lines.execute(
            "select quarter(InvoiceDate), sum(Quantity * UnitPrice) / count(distinct InvoiceDate::date) "
            "from t group by 1"
        ).fetchall()
    )
    assert per_day[4] > 1.2 * max(per_day[2], per_day[3])


def test_revenue_in_year_one_predicts_year_two(lines: duckdb.DuckDBPyConnection) -> None:
    revenue = lines.execute(
        """select sum(Quantity * UnitPrice) filter (year(InvoiceDate) = 2023),
                  coalesce(sum(Quantity * UnitPrice) filter (year(InvoiceDate) = 2024), 0)
           from t where CustomerID is not null group by CustomerID
           having count(*) filter (year(InvoiceDate) = 2023) > 0"""
    ).fetchnumpy()
    year_one, year_two = (np.asarray(v, dtype=float) for v in revenue.values())
    assert spearmanr(year_one, year_two).statistic > 0.3


def test_small_rows_per_file_splits_into_files_of_at_most_that_size(tmp_path: Path) -> None:
    report = generate_sample(SampleSpec(rows=5_000, seed=1, rows_per_file=1_500), tmp_path)
    sizes = [pacsv.read_csv(f).num_rows for f in report.files]
    assert [f.name for f in report.files] == [f"sample-s1-{i:05d}.csv" for i in range(1, 5)]
    assert sizes[:3] == [1_500] * 3
    assert sum(sizes) == report.rows


def test_parquet_and_csv_hold_the_same_rows(tmp_path: Path) -> None:
    spec = SampleSpec(rows=4_000, seed=5, rows_per_file=1_500)
    csv = generate_sample(spec, tmp_path / "csv")
    parquet = generate_sample(
        SampleSpec(rows=4_000, seed=5, fmt="parquet", rows_per_file=1_500), tmp_path / "pq"
    )
    con = duckdb.connect()
    from_csv = con.execute(
        f"select * from read_csv('{tmp_path}/csv/*.csv', types={{'CustomerID': 'INTEGER'}}) order by all"
    ).fetchall()
    from_parquet = con.execute(
        f"select * from read_parquet('{tmp_path}/pq/*.parquet') order by all"
    ).fetchall()
    assert csv.rows == parquet.rows == len(from_csv)
    assert from_csv == from_parquet


def test_memory_is_bounded_by_a_month_not_the_whole_sample(tmp_path: Path) -> None:
    """2M lines take ~200 MB as Arrow or numpy; streaming month by month must stay far below that.

    tracemalloc sees numpy's buffers, not Arrow's pool, so Arrow's live bytes are sampled at every file.
    """
    arrow_bytes: list[int] = []
    tracemalloc.start()
    try:
        report = generate_sample(
            SampleSpec(rows=2_000_000, seed=2, fmt="parquet", rows_per_file=200_000),
            tmp_path,
            progress=lambda _: arrow_bytes.append(pa.total_allocated_bytes()),
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(report.files) == len(arrow_bytes) == 10
    assert peak < 60_000_000
    assert max(arrow_bytes) < 60_000_000


def test_split_exactly_sums_to_total_proportionally() -> None:
    shares = split_exactly(10, np.array([1.0, 1.0, 2.0]))
    assert shares.tolist() == [2, 3, 5] or shares.tolist() == [3, 2, 5]
    assert split_exactly(0, np.array([1.0])).tolist() == [0]


def test_cli_writes_the_requested_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--rows",
            "2000",
            "--seed",
            "9",
            "--format",
            "parquet",
            "--out",
            str(tmp_path),
            "--start",
            "2024-01-01",
            "--end",
            "2024-06-30",
        ]
    )
    table = pa.concat_tables([pa.parquet.read_table(f) for f in sorted(tmp_path.glob("*.parquet"))])
    assert code == 0
    assert "2,0" in capsys.readouterr().out
    assert abs(table.num_rows - 2_000) < 20
    assert table.column("InvoiceDate").to_numpy().max() < np.datetime64(date(2024, 7, 1))
