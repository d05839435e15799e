"""Ingestion into bronze on real files and on every kind of malformed input, with real DuckDB."""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from cltv.config import Settings
from cltv.ingest import IngestError, files_with_lines_up_to, ingest_landing
from cltv.sample import COLUMNS
from cltv.warehouse import connect
from tests.conftest import settings_in

HEADER = COLUMNS  # the Online Retail layout, as the sample generator writes it


def good_row(i: int) -> list[str]:
    return [
        str(536365 + i // 5),
        "85123A",
        "WHITE HANGING HEART",
        str(1 + i % 7),
        "2010-12-01 08:26:00",
        "2.55",
        "17850.0",
        "United Kingdom",
    ]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def rows_of(settings: Settings, sql: str) -> list[tuple]:
    with connect(settings, read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
def test_both_real_files_load_once_with_their_columns_mapped(settings: Settings, real_data):
    settings.landing_dir.mkdir(parents=True)
    for path in real_data.values():
        shutil.copy(path, settings.landing_dir / path.name)

    first = ingest_landing(settings, run_id="run-1")
    second = ingest_landing(settings, run_id="run-2")

    assert first.rows_loaded == 541_909 + 525_461
    assert first.rows_rejected == 0
    assert (second.rows_loaded, second.files_skipped) == (0, 2)
    counts = dict(rows_of(settings, "select _source_file, count(*) from bronze.raw_invoices group by 1"))
    assert counts == {"online_retail.parquet": 541_909, "online_retail_ii_2009_2010.parquet": 525_461}
    [(quantity, revenue)] = rows_of(
        settings,
        "select sum(quantity), round(sum(quantity * unit_price), 3) from bronze.raw_invoices "
        "where _source_file = 'online_retail.parquet'",
    )
    assert (quantity, revenue) == (5_176_450, 9_747_747.934)
    first_line = rows_of(
        settings,
        "select invoice_no, stock_code, quantity, customer_id, _source_row from bronze.raw_invoices "
        "where _source_file = 'online_retail.parquet' and _source_row = 1",
    )
    assert first_line == [("536365", "85123A", 6, "17850.0", 1)]
    assert rows_of(settings, "select count(*) from bronze.raw_invoices where customer_id is null") == [
        (135_080 + 107_927,)
    ]


def test_three_corrupt_rows_in_a_thousand_are_rejected_with_reasons(settings: Settings):
    rows = [good_row(i) for i in range(1000)]
    rows[10][3] = "six"
    rows[500][4] = "not a date"
    rows[900][5] = "£2.55"
    write_csv(settings.landing_dir / "sales.csv", rows)

    summary = ingest_landing(settings, run_id="r")

    assert (summary.rows_loaded, summary.rows_rejected) == (997, 3)
    rejected = rows_of(settings, "select _source_row, reason from bronze.rejected_rows order by 1")
    assert rejected == [
        (11, "quantity is not an integer: six"),
        (501, "unparseable invoice date: not a date"),
        (901, "unit price is not a number: £2.55"),
    ]
    assert rows_of(
        settings, "select rows_in_file, rows_loaded, rows_rejected, status from bronze.load_log"
    ) == [(1000, 997, 3, "loaded")]


def test_source_row_points_at_the_line_in_the_file(settings: Settings):
    rows = [good_row(i) for i in range(50)]
    rows[36][0] = "999999"
    write_csv(settings.landing_dir / "a.csv", rows)
    ingest_landing(settings, run_id="r")
    assert rows_of(settings, "select _source_row from bronze.raw_invoices where invoice_no = '999999'") == [
        (37,)
    ]


def test_more_rejects_than_allowed_fails_the_file_and_loads_nothing(settings: Settings):
    rows = [good_row(i) for i in range(100)]
    for i in range(5):
        rows[i][3] = "x"
    write_csv(settings.landing_dir / "bad.csv", rows)
    write_csv(settings.landing_dir / "good.csv", [good_row(i) for i in range(10)])

    with pytest.raises(IngestError, match=r"bad.csv: 5 of 100 rows rejected .*quantity is not an integer"):
        ingest_landing(settings, run_id="r")

    assert rows_of(settings, "select _source_file, count(*) from bronze.raw_invoices group by 1") == [
        ("good.csv", 10)
    ]
    assert rows_of(settings, "select status from bronze.load_log where source_file = 'bad.csv'") == [
        ("failed",)
    ]


def test_a_missing_column_names_the_file_and_the_column(settings: Settings):
    header = [h for h in HEADER if h != "UnitPrice"]
    write_csv(settings.landing_dir / "no_price.csv", [good_row(0)[:5] + good_row(0)[6:]], header=header)
    with pytest.raises(IngestError, match=r"no_price\.csv: required column.*unit_price"):
        ingest_landing(settings, run_id="r")


def test_online_retail_ii_names_and_extra_columns_are_accepted(settings: Settings):
    header = [
        "Invoice",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "Price",
        "Customer ID",
        "Country",
        "Channel",
    ]
    write_csv(settings.landing_dir / "ii.csv", [[*good_row(0), "web"]], header=header)
    summary = ingest_landing(settings, run_id="r")
    assert summary.rows_loaded == 1
    assert rows_of(settings, "select unit_price, customer_id from bronze.raw_invoices") == [(2.55, "17850.0")]
    assert rows_of(settings, "select message from bronze.load_log") == [("ignored columns: Channel",)]


def test_iso_8859_1_csv_keeps_its_characters(settings: Settings):
    row = good_row(0)
    row[2], row[7] = "CAFÉ £ MUG", "Côte d'Ivoire"
    write_csv(settings.landing_dir / "latin.csv", [row], encoding="latin-1")
    ingest_landing(settings, run_id="r")
    assert rows_of(settings, "select description, country from bronze.raw_invoices") == [
        ("CAFÉ £ MUG", "Côte d'Ivoire")
    ]


def test_a_truncated_last_line_is_rejected_not_lost(settings: Settings):
    path = write_csv(settings.landing_dir / "cut.csv", [good_row(i) for i in range(200)])
    path.write_text(path.read_text() + "536999,85123A,WHITE HANG")
    summary = ingest_landing(settings, run_id="r")
    assert (summary.rows_loaded, summary.rows_rejected) == (200, 1)
    assert rows_of(settings, "select _source_row, reason, raw_values from bronze.rejected_rows") == [
        (201, "wrong number of fields (Expected Number of Columns: 8 Found: 3)", "536999,85123A,WHITE HANG")
    ]


def test_a_line_with_too_many_fields_is_rejected_and_later_rows_keep_their_line(settings: Settings):
    rows = [good_row(i) for i in range(300)]
    rows[4].append("EXTRA")
    rows[5] = rows[5][:6]
    rows[9][0] = "999999"
    path = write_csv(settings.landing_dir / "fields.csv", rows)

    summary = ingest_landing(settings, run_id="r")

    assert (summary.rows_loaded, summary.rows_rejected) == (298, 2)
    assert rows_of(settings, "select _source_row, reason from bronze.rejected_rows order by 1") == [
        (5, "wrong number of fields (Expected Number of Columns: 8 Found: 9)"),
        (6, "wrong number of fields (Expected Number of Columns: 8 Found: 6)"),
    ]
    [(source_row, invoice_no)] = rows_of(
        settings, "select _source_row, invoice_no from bronze.raw_invoices where invoice_no = '999999'"
    )
    # _source_row is the 1-based data row: line source_row + 1 of the file, after the header.
    line = path.read_text().splitlines()[source_row]
    assert (source_row, line.split(",")[0]) == (10, invoice_no)
    assert rows_of(
        settings, "select max(_source_row), count(distinct _source_row) from bronze.raw_invoices"
    ) == [(300, 298)]


def test_a_fractional_quantity_is_rejected_not_rounded(settings: Settings):
    rows = [good_row(i) for i in range(200)]
    rows[0][3] = "2.5"
    rows[1][3] = "3.0"
    write_csv(settings.landing_dir / "frac.csv", rows)
    summary = ingest_landing(settings, run_id="r")
    assert (summary.rows_loaded, summary.rows_rejected) == (199, 1)
    assert rows_of(settings, "select reason from bronze.rejected_rows") == [
        ("quantity is not an integer: 2.5",)
    ]
    assert rows_of(settings, "select quantity from bronze.raw_invoices where _source_row = 2") == [(3,)]


def test_an_unreadable_file_fails_alone_and_is_retried_once_fixed(settings: Settings):
    landing = settings.landing_dir
    write_csv(landing / "b_good.csv", [good_row(i) for i in range(5)])
    (landing / "a_broken.xlsx").write_bytes(b"not a zip archive")
    (landing / "notes.md").write_text("not data")
    (landing / ".hidden.csv").write_text("garbage")

    with pytest.raises(IngestError, match=r"a_broken\.xlsx: cannot read \(BadZipFile\)"):
        ingest_landing(settings, run_id="r1")
    assert rows_of(settings, "select source_file, status, rows_loaded from bronze.load_log order by 1") == [
        ("a_broken.xlsx", "failed", 0),
        ("b_good.csv", "loaded", 5),
    ]

    (landing / "a_broken.xlsx").unlink()
    write_csv(landing / "a_broken.csv", [good_row(i) for i in range(3)])
    shutil.copy(landing / "b_good.csv", landing / "c_same_bytes.csv")
    summary = ingest_landing(settings, run_id="r2")

    assert (summary.rows_loaded, summary.files_skipped) == (3, 2)
    assert rows_of(
        settings, "select _source_file, count(*) from bronze.raw_invoices group by 1 order by 1"
    ) == [
        ("a_broken.csv", 3),
        ("b_good.csv", 5),
    ]


def write_listing(landing: Path) -> None:
    """Five files in two folders, one of them the same bytes as another."""
    write_csv(landing / "a.csv", [good_row(i) for i in range(0, 40)])
    write_csv(landing / "b" / "c.csv", [good_row(i) for i in range(40, 90)])
    write_csv(landing / "b" / "d.csv", [good_row(i) for i in range(90, 95)])
    shutil.copy(landing / "a.csv", landing / "e_same_bytes_as_a.csv")
    write_csv(landing / "f.csv", [good_row(i) for i in range(95, 130)])


LOAD_ORDER_SQL = """
select _source_file, count(*), count(distinct _loaded_at),
       date_diff('microsecond', (select min(_loaded_at) from bronze.raw_invoices), min(_loaded_at))
from bronze.raw_invoices group by _source_file order by min(_loaded_at)
"""


def test_files_loaded_side_by_side_are_ordered_by_their_place_in_the_listing(settings: Settings):
    # silver keeps the copy of a repeated line with the earliest _loaded_at: that must not depend on
    # which file's transaction started first, so each file gets the run's start + its position in µs
    write_listing(settings.landing_dir)
    summary = ingest_landing(settings, run_id="r")

    assert (summary.rows_loaded, summary.files_skipped) == (130, 1)
    assert [f.source_file for f in summary.files] == ["a.csv", "b/c.csv", "b/d.csv", "f.csv"]
    assert rows_of(settings, LOAD_ORDER_SQL) == [
        ("a.csv", 40, 1, 0),
        ("b/c.csv", 50, 1, 1),
        ("b/d.csv", 5, 1, 2),
        ("f.csv", 35, 1, 4),  # position 3 is the skipped copy of a.csv
    ]


def test_a_load_is_stamped_after_every_earlier_load_even_when_the_clock_is_behind(settings: Settings):
    """dbt finds the loads a model has not read by its latest `_loaded_at` (macro is_new_load): a new load
    stamped before an old one would be skipped, so a clock set back must not stamp one there."""
    write_csv(settings.landing_dir / "a.csv", [good_row(i) for i in range(0, 10)])
    ingest_landing(settings, run_id="r1")
    with connect(settings) as con:  # as if the first load had run on a clock a day ahead
        con.execute("update bronze.raw_invoices set _loaded_at = _loaded_at + interval 1 day")
    write_csv(settings.landing_dir / "b.csv", [good_row(i) for i in range(10, 20)])
    ingest_landing(settings, run_id="r2")

    assert rows_of(
        settings,
        "select _source_file, date_diff('millisecond', (select max(_loaded_at) from bronze.raw_invoices "
        "where _source_file = 'a.csv'), min(_loaded_at)) from bronze.raw_invoices group by 1 order by 1",
    ) == [("a.csv", 0), ("b.csv", 1)]


def test_one_thread_or_several_load_the_same_bronze(tmp_path: Path):
    def bronze_with(threads: int) -> list[tuple]:
        settings = replace(settings_in(tmp_path / f"threads-{threads}"), duckdb_threads=threads)
        write_listing(settings.landing_dir)
        ingest_landing(settings, run_id="r")
        with connect(settings, read_only=True) as con:
            assert con.execute("select current_setting('threads')").fetchone() == (threads,)
            offset = "date_diff('microsecond', min(_loaded_at) over (), _loaded_at)"
            return con.execute(
                f"select * exclude (_loaded_at), {offset} from bronze.raw_invoices "
                "order by _source_file, _source_row"
            ).fetchall()

    assert bronze_with(1) == bronze_with(3)


def test_a_missing_column_in_one_file_does_not_stop_the_others(settings: Settings):
    header = [h for h in HEADER if h != "Quantity"]
    write_csv(settings.landing_dir / "a.csv", [good_row(0)[:3] + good_row(0)[4:]], header=header)
    write_csv(settings.landing_dir / "b.csv", [good_row(0)])
    with pytest.raises(IngestError, match=r"a\.csv: required column.*quantity"):
        ingest_landing(settings, run_id="r")
    assert rows_of(settings, "select source_file, status from bronze.load_log order by 1") == [
        ("a.csv", "failed"),
        ("b.csv", "loaded"),
    ]


def test_empty_file_fails_and_header_only_file_loads_zero_rows(settings: Settings):
    write_csv(settings.landing_dir / "header_only.csv", [])
    (settings.landing_dir / "empty.csv").write_bytes(b"")
    with pytest.raises(IngestError, match=r"empty\.csv: empty file"):
        ingest_landing(settings, run_id="r")
    assert rows_of(settings, "select source_file, status, rows_in_file from bronze.load_log order by 1") == [
        ("empty.csv", "failed", 0),
        ("header_only.csv", "loaded", 0),
    ]


def test_the_same_rows_as_csv_and_as_xlsx_with_two_sheets_load_alike(settings: Settings):
    from openpyxl import Workbook

    rows = [good_row(i) for i in range(30)]
    write_csv(settings.landing_dir / "csv" / "lines.csv", rows)
    workbook = Workbook()
    first = workbook.active
    first.title = "2010"
    second = workbook.create_sheet("2011")
    for sheet, part in ((first, rows[:20]), (second, rows[20:])):
        sheet.append(HEADER)
        for r in part:
            sheet.append([r[0], r[1], r[2], int(r[3]), r[4], float(r[5]), float(r[6]), r[7]])
    (settings.landing_dir / "xlsx").mkdir()
    workbook.save(settings.landing_dir / "xlsx" / "lines.xlsx")

    summary = ingest_landing(settings, run_id="r")

    assert summary.rows_loaded == 60
    # Excel keeps no difference between 17850 and 17850.0, so the id is compared without a trailing '.0'.
    business = (
        "invoice_no, stock_code, description, quantity, invoice_date, unit_price, "
        "regexp_replace(customer_id, '[.]0$', ''), country"
    )
    by_format = rows_of(
        settings,
        f"select count(*) from (select {business} from bronze.raw_invoices where _source_file like 'csv/%' "
        f"except all select {business} from bronze.raw_invoices where _source_file like 'xlsx/%')",
    )
    assert by_format == [(0,)]
    assert rows_of(
        settings,
        "select _source_sheet, count(*) from bronze.raw_invoices where _source_sheet is not null "
        "group by 1 order by 1",
    ) == [("2010", 20), ("2011", 10)]


def set_mtime_ns(path: Path, mtime_ns: int) -> None:
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_loaded_files_are_known_by_name_size_and_mtime_and_not_read_again(settings: Settings):
    landing = settings.landing_dir
    write_csv(landing / "a.csv", [good_row(i) for i in range(5)])
    write_csv(landing / "b.csv", [good_row(i) for i in range(5, 9)])
    first = ingest_landing(settings, run_id="r1")
    assert (first.rows_loaded, first.files_hashed) == (9, 2)
    assert rows_of(settings, "select count(*) from bronze.load_log where file_mtime_ns is null") == [(0,)]

    write_csv(landing / "c.csv", [good_row(i) for i in range(9, 12)])
    second = ingest_landing(settings, run_id="r2")
    assert (second.rows_loaded, second.files_skipped, second.files_hashed) == (3, 2, 1)

    # Touched: read again, found to be the loaded bytes, and known by its new mtime from then on.
    set_mtime_ns(landing / "a.csv", (landing / "a.csv").stat().st_mtime_ns + 10**9)
    touched = ingest_landing(settings, run_id="r3")
    assert (touched.rows_loaded, touched.files_skipped, touched.files_hashed) == (0, 3, 1)
    after_touch = ingest_landing(settings, run_id="r4")
    assert (after_touch.files_skipped, after_touch.files_hashed) == (3, 0)

    # Rewritten in place with new rows: a new mtime, so read again, and its new bytes load.
    write_csv(landing / "b.csv", [good_row(i) for i in range(5, 9)] + [good_row(99)])
    rewritten = ingest_landing(settings, run_id="r5")
    assert (rewritten.rows_loaded, rewritten.files_hashed) == (5, 1)
    assert rows_of(settings, "select count(*) from bronze.raw_invoices") == [(17,)]


def test_a_file_with_the_same_name_size_and_mtime_is_taken_as_loaded(settings: Settings):
    """The quick check's one trade-off, as rsync's: bytes swapped without changing size or mtime go unseen."""
    path = write_csv(settings.landing_dir / "a.csv", [good_row(i) for i in range(5)])
    ingest_landing(settings, run_id="r1")
    mtime_ns = path.stat().st_mtime_ns
    path.write_bytes(path.read_bytes().replace(b"WHITE", b"BLACK"))
    set_mtime_ns(path, mtime_ns)

    again = ingest_landing(settings, run_id="r2")

    assert (again.rows_loaded, again.files_skipped, again.files_hashed) == (0, 1, 0)


def test_a_warehouse_from_before_the_quick_check_learns_the_mtimes_on_its_next_run(settings: Settings):
    write_csv(settings.landing_dir / "a.csv", [good_row(i) for i in range(5)])
    ingest_landing(settings, run_id="r1")
    with connect(settings) as con:  # the load_log of an older cltv: no file_mtime_ns column
        con.execute("alter table bronze.load_log drop column file_mtime_ns")

    migrated = ingest_landing(settings, run_id="r2")
    known = ingest_landing(settings, run_id="r3")

    assert (migrated.rows_loaded, migrated.files_skipped, migrated.files_hashed) == (0, 1, 1)
    assert (known.files_skipped, known.files_hashed) == (1, 0)
    assert rows_of(settings, "select count(*) from bronze.raw_invoices") == [(5,)]


def dated_row(i: int, invoiced_at: str) -> list[str]:
    return [*good_row(i)[:4], invoiced_at, *good_row(i)[5:]]


def test_each_load_records_its_earliest_line_and_the_files_with_lines_up_to_a_day_are_found(
    settings: Settings,
):
    write_csv(
        settings.landing_dir / "a.csv",
        [dated_row(0, "2011-03-31 23:59:00"), dated_row(1, "2011-05-02 10:00:00")],
    )
    rejected = [*dated_row(2, "2011-01-01 00:00:00")[:3], "two", *dated_row(2, "2011-01-01 00:00:00")[4:]]
    later = [dated_row(i, "2011-06-01 00:00:00") for i in range(3, 150)]
    write_csv(settings.landing_dir / "b.csv", [dated_row(2, "2011-04-01 00:00:00"), rejected, *later])
    write_csv(settings.landing_dir / "empty.csv", [])
    ingest_landing(settings, run_id="r1")

    logged = "select source_file, earliest_invoiced_at::varchar from bronze.load_log order by source_file"
    assert rows_of(settings, logged) == [
        ("a.csv", "2011-03-31 23:59:00"),
        ("b.csv", "2011-04-01 00:00:00"),  # the rejected row does not count
        ("empty.csv", None),
    ]
    with connect(settings, read_only=True) as con:
        by_day = {
            day: files_with_lines_up_to(con, date.fromisoformat(day))
            for day in ("2011-03-30", "2011-03-31", "2011-04-01")
        }
        shas = dict(con.execute("select source_file, file_sha256 from bronze.load_log").fetchall())
    assert by_day == {
        "2011-03-30": [],
        "2011-03-31": [shas["a.csv"]],
        "2011-04-01": sorted([shas["a.csv"], shas["b.csv"]]),
    }


def test_a_warehouse_from_before_earliest_invoiced_at_fills_it_from_its_rows_on_its_next_run(
    settings: Settings,
):
    write_csv(
        settings.landing_dir / "a.csv",
        [dated_row(0, "2011-02-03 04:05:00"), dated_row(1, "2011-01-02 03:04:00")],
    )
    ingest_landing(settings, run_id="r1")
    with connect(settings) as con:  # the load_log of an older cltv
        con.execute("alter table bronze.load_log drop column earliest_invoiced_at")

    ingest_landing(settings, run_id="r2")

    assert rows_of(settings, "select earliest_invoiced_at::varchar from bronze.load_log") == [
        ("2011-01-02 03:04:00",)
    ]
