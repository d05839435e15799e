"""Load invoice files from the landing folder into bronze: each file once, every row accounted for.

- Formats: CSV (UTF-8, or ISO-8859-1 when the bytes are not valid UTF-8), XLSX (every sheet), Parquet.
  Other files are skipped with a warning (a README or a checksum file in the landing folder is normal).
- Columns are matched by name, ignoring case, spaces and underscores; the Online Retail and Online Retail
  II layouts are known. Extra columns are ignored (and named in `load_log.message`); a missing required
  column fails the file with a message naming the file and the column.
- A file is identified by the sha256 of its bytes: once loaded, the same bytes (under any name) are
  skipped. A failed file is retried on the next run.
- Quick check (as rsync's): a file whose name, size and modification time (ns) match a loaded file's entry
  in `load_log` is that file, and is not read again. Hashing every landing file on every run would read the
  whole history from disk (8.7 GB, over two minutes cold, at 100M lines) to find one new month. A file
  rewritten in place changes its modification time, so it is hashed again (and loaded if its bytes are new).
- Rows whose quantity (a whole number), date or price cannot be parsed, that lack an invoice number, or
  CSV lines with the wrong number of fields (DuckDB's `store_rejects`) go to `bronze.rejected_rows` with
  the reason and the raw line or values; rows in file = loaded + rejected. A file with more than
  `CLTV_MAX_REJECT_SHARE` rejects loads no rows; its rejects are kept for diagnosis.
- Files load side by side, one transaction each on its own cursor, as many at once as DuckDB has threads
  (the CSV reader numbers rows in file order, so it reads one file on one thread). A file's `_loaded_at` is
  the ingest's start plus its position in the landing folder's sorted listing, in microseconds: it decides
  which copy of a repeated line silver keeps, so it must not depend on which file finished first.
- One transaction per file: a run killed mid-file leaves nothing of that file behind. A file that cannot
  be read at all (a corrupt XLSX, a CSV DuckDB cannot parse) is rolled back and logged as failed; the
  other files still load, and `ingest_landing` raises at the end naming every failed file.
- An empty (0-byte) file fails ("empty file"); a header-only file loads with 0 rows.
- Bronze keeps raw values: no trimming of ids, no de-duplication; cleaning is dbt's job.
- Dates: ISO (`2010-12-01 08:26:00`) or the UCI CSV form month/day/year (`12/1/2010 8:26`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from cltv.config import Settings
from cltv.parallel import parallel_map
from cltv.sql import literal, quoted
from cltv.warehouse import connect

log = logging.getLogger("cltv.ingest")

CANONICAL_COLUMNS = (
    "invoice_no",
    "stock_code",
    "description",
    "quantity",
    "invoice_date",
    "unit_price",
    "customer_id",
    "country",
)
ALIASES = {
    "invoiceno": "invoice_no",
    "invoice": "invoice_no",
    "invoicenumber": "invoice_no",
    "stockcode": "stock_code",
    "description": "description",
    "quantity": "quantity",
    "invoicedate": "invoice_date",
    "unitprice": "unit_price",
    "price": "unit_price",
    "customerid": "customer_id",
    "country": "country",
}
FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}
XLSX_CHUNK_ROWS = 50_000

DDL = """
create schema if not exists bronze;
create table if not exists bronze.raw_invoices (
    invoice_no varchar, stock_code varchar, description varchar, quantity bigint, invoice_date timestamp,
    unit_price double, customer_id varchar, country varchar,
    _source_file varchar, _source_sheet varchar, _source_row bigint, _load_id varchar, _loaded_at timestamp
);
create table if not exists bronze.rejected_rows (
    load_id varchar, _source_file varchar, _source_sheet varchar, _source_row bigint, reason varchar,
    raw_values varchar
);
create table if not exists bronze.load_log (
    load_id varchar primary key, run_id varchar, source_file varchar, file_sha256 varchar,
    file_format varchar, file_bytes bigint, status varchar, rows_in_file bigint, rows_loaded bigint,
    rows_rejected bigint, message varchar, started_at timestamp, finished_at timestamp,
    file_mtime_ns bigint, earliest_invoiced_at timestamp
);
-- warehouses from before the quick check (see the module docstring) gain the column, empty
alter table bronze.load_log add column if not exists file_mtime_ns bigint;
-- the earliest line of each load (null when it loaded none): a model trained as of a date depends on the
-- loads with lines up to that date only (ml.cache); older warehouses fill it once (`ensure_bronze_schema`)
alter table bronze.load_log add column if not exists earliest_invoiced_at timestamp;
"""

# Parse every raw (text) column once; `reason` names the first problem of a row, or is null.
PARSE_SQL = """
create or replace temp table parsed as
with typed as (
    select
        *,
        -- a whole number only: try_cast('2.5' as bigint) would round to 3
        case
            when try_cast(quantity_raw as double) = try_cast(quantity_raw as bigint)
                then try_cast(quantity_raw as bigint)
        end as quantity,
        coalesce(
            try_cast(invoice_date_raw as timestamp),
            try_strptime(invoice_date_raw, '%m/%d/%Y %H:%M'),
            try_strptime(invoice_date_raw, '%m/%d/%Y %H:%M:%S')
        ) as invoice_date,
        try_cast(unit_price_raw as double) as unit_price
    from staged
)
select
    *,
    case
        when _read_error is not null then _read_error
        when nullif(trim(invoice_no_raw), '') is null then 'missing invoice number'
        when quantity is null then 'quantity is not an integer: ' || coalesce(quantity_raw, '<empty>')
        when invoice_date is null then 'unparseable invoice date: ' || coalesce(invoice_date_raw, '<empty>')
        when unit_price is null then 'unit price is not a number: ' || coalesce(unit_price_raw, '<empty>')
    end as reason
from typed
"""


class IngestError(RuntimeError):
    """One or more files could not be loaded; the message names each file and why."""


@dataclass(frozen=True)
class FileLoad:
    source_file: str
    status: str
    rows_in_file: int
    rows_loaded: int
    rows_rejected: int
    message: str


@dataclass(frozen=True)
class LandingFile:
    """A file of the landing folder as the quick check sees it: its name in bronze, size and mtime."""

    path: Path
    source_file: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path, landing_dir: Path) -> LandingFile:
        stat = path.stat()
        return cls(path, str(path.relative_to(landing_dir)), stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class PlannedLoad:
    """A landing file this run loads: the sha256 of its bytes and its `_loaded_at`."""

    file: LandingFile
    sha256: str
    loaded_at: datetime

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def source_file(self) -> str:
        return self.file.source_file


@dataclass(frozen=True)
class IngestSummary:
    run_id: str
    files: list[FileLoad] = field(default_factory=list)
    rows_loaded: int = 0
    rows_rejected: int = 0
    files_skipped: int = 0
    files_hashed: int = 0


def ensure_bronze_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    fill_earliest_invoiced_at(con)


def fill_earliest_invoiced_at(con: duckdb.DuckDBPyConnection) -> None:
    """Loads logged before `earliest_invoiced_at` existed get it from their rows (once: a no-op after)."""
    (missing,) = con.execute(
        "select count(*) from bronze.load_log "
        "where status = 'loaded' and rows_loaded > 0 and earliest_invoiced_at is null"
    ).fetchone()
    if missing:
        con.execute(
            """
            update bronze.load_log set earliest_invoiced_at = earliest.invoiced_at
            from (
                select _load_id, min(invoice_date) as invoiced_at from bronze.raw_invoices
                where _load_id in (
                    select load_id from bronze.load_log
                    where status = 'loaded' and rows_loaded > 0 and earliest_invoiced_at is null
                )
                group by _load_id
            ) as earliest
            where bronze.load_log.load_id = earliest._load_id
            """
        )


def files_with_lines_up_to(con: duckdb.DuckDBPyConnection, day: date) -> list[str]:
    """The sha256 of every loaded file holding a line dated on or before `day`, sorted: the files whose
    bytes decide what the warehouse holds up to that day (a file whose lines are all later changes none)."""
    rows = con.execute(
        "select distinct file_sha256 from bronze.load_log "
        "where status = 'loaded' and earliest_invoiced_at < ?::date + 1 order by file_sha256",
        [day],
    ).fetchall()
    return [sha for (sha,) in rows]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_utf8(path: Path) -> bool:
    """Stream the file through an incremental decoder: memory stays flat for any size."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def normalise(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def map_columns(source_file: str, names: list[str]) -> tuple[dict[str, str], list[str]]:
    """Canonical name -> the file's column name; and the file's columns that are ignored."""
    mapping: dict[str, str] = {}
    extra = []
    for name in names:
        canonical = ALIASES.get(normalise(name))
        if canonical and canonical not in mapping:
            mapping[canonical] = name
        else:
            extra.append(name)
    missing = [c for c in CANONICAL_COLUMNS if c not in mapping]
    if missing:
        raise IngestError(f"{source_file}: required column(s) missing: {', '.join(missing)} (found: {names})")
    return mapping, extra


def stage_relation(
    con: duckdb.DuckDBPyConnection, source_file: str, relation: str, sheet: str | None
) -> list[str]:
    """Create temp view `staged`: the canonical columns as text, with row numbers; return ignored columns.

    A view, not a table: the rows are read once, when `parsed` is built from it.
    """
    names = [row[0] for row in con.execute(f"describe select * from {relation}").fetchall()]
    names = [n for n in names if n != "_source_row"]
    mapping, extra = map_columns(source_file, names)
    columns = ", ".join(f"cast({quoted(mapping[c])} as varchar) as {c}_raw" for c in CANONICAL_COLUMNS)
    sheet_sql = "null" if sheet is None else literal(sheet)
    con.execute(
        f"create or replace temp view staged as select {columns}, {sheet_sql}::varchar as _source_sheet, "
        f"_source_row, null::varchar as _read_error, null::varchar as _raw_line from {relation}"
    )
    return extra


# Lines DuckDB's CSV reader set aside (wrong number of fields, bad quoting), one row per data line.
CSV_BAD_LINES_SQL = """
create or replace temp table csv_bad_lines as
select
    line - 1 as _source_row,
    case
        when arg_min(error_type, column_idx) in ('MISSING COLUMNS', 'TOO MANY COLUMNS')
            then 'wrong number of fields (' || arg_min(error_message, column_idx) || ')'
        else lower(arg_min(error_type, column_idx)) || ' (' || arg_min(error_message, column_idx) || ')'
    end as reason,
    arg_min(csv_line, column_idx) as raw_line
from csv_rejects
group by line
"""

# Good lines are numbered 1..n in file order; each set-aside line before a good one shifts its number by
# one. For the j-th set-aside line r_j, good lines numbered above r_j - j sit after it (an ASOF join).
CSV_RENUMBER_SQL = """
create or replace temp table parsed_csv as
with shifts as (
    select _source_row - row_number() over (order by _source_row) as threshold,
        row_number() over (order by _source_row) as shift
    from csv_bad_lines
),
steps as (select threshold, max(shift) as shift from shifts group by threshold)
select parsed.* replace (parsed._source_row + coalesce(steps.shift, 0) as _source_row)
from parsed
asof left join steps on parsed._source_row > steps.threshold
union all by name
select _source_row, reason, reason as _read_error, raw_line as _raw_line from csv_bad_lines
"""


def stage_csv(con: duckdb.DuckDBPyConnection, path: Path, source_file: str) -> list[str]:
    """Stage a CSV's fields as text; lines that do not split into the header's fields are set aside."""
    encoding = "utf-8" if is_utf8(path) else "latin-1"
    # The good-line number follows file order because the scan is single-threaded and insertion order is
    # preserved on this connection; `merge_csv_bad_lines` renumbers around the lines set aside.
    con.execute("set preserve_insertion_order = true")
    con.execute("drop table if exists csv_rejects; drop table if exists csv_scans")
    relation = (
        f"(select *, row_number() over () as _source_row from read_csv('{path}', header = true, "
        f"all_varchar = true, encoding = '{encoding}', parallel = false, store_rejects = true, "
        f"rejects_table = 'csv_rejects', rejects_scan = 'csv_scans'))"
    )
    return stage_relation(con, source_file, relation, sheet=None)


def merge_csv_bad_lines(con: duckdb.DuckDBPyConnection) -> None:
    """After `parsed` is built from a CSV: add the lines the reader set aside, and fix the row numbers."""
    con.execute(CSV_BAD_LINES_SQL)
    if not con.execute("select count(*) from csv_bad_lines").fetchone()[0]:
        return
    con.execute(CSV_RENUMBER_SQL)
    con.execute("drop table parsed")
    con.execute("alter table parsed_csv rename to parsed")


def stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, source_file: str) -> list[str]:
    relation = (
        f"(select * exclude (file_row_number), file_row_number + 1 as _source_row "
        f"from read_parquet('{path}', file_row_number = true))"
    )
    return stage_relation(con, source_file, relation, sheet=None)


def xlsx_sheet_tables(path: Path):
    """Yield (sheet name, Arrow table of text cells with row numbers) per sheet, read in streaming mode."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                continue
            names = [str(h) if h is not None else f"column_{i}" for i, h in enumerate(header)]
            columns: list[list[str | None]] = [[] for _ in names]
            row_numbers: list[int] = []
            for number, row in enumerate(rows, start=1):
                if row is None or all(v is None for v in row):
                    continue
                row_numbers.append(number)
                for i in range(len(names)):
                    value = row[i] if i < len(row) else None
                    columns[i].append(None if value is None else cell_text(value))
            arrays = {n: pa.array(c, pa.string()) for n, c in zip(names, columns, strict=True)}
            arrays["_source_row"] = pa.array(row_numbers, pa.int64())
            yield sheet.title, pa.table(arrays)
    finally:
        workbook.close()


def cell_text(value: object) -> str:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def load_staged(
    con: duckdb.DuckDBPyConnection,
    *,
    load_id: str,
    source_file: str,
    max_reject_share: float,
    loaded_at: datetime,
    is_csv: bool = False,
) -> tuple[int, int, str | None, datetime | None]:
    """Parse `staged` and write its rows; return (loaded, rejected, failure message or None, the earliest
    loaded line's date or None)."""
    con.execute(PARSE_SQL)
    if is_csv:
        merge_csv_bad_lines(con)
    total, rejected, earliest = con.execute(
        "select count(*), count(reason), min(invoice_date) filter (where reason is null) from parsed"
    ).fetchone()
    raw_values = (
        "coalesce(_raw_line, " + " || '|' || ".join(f"coalesce({c}_raw, '')" for c in CANONICAL_COLUMNS) + ")"
    )
    con.execute(
        "insert into bronze.rejected_rows select ?, ?, _source_sheet, _source_row, reason, "
        f"{raw_values} from parsed where reason is not null order by _source_sheet, _source_row",
        [load_id, source_file],
    )
    if total and rejected / total > max_reject_share:
        reasons = con.execute(
            "select trim(regexp_replace(reason, '[:(].*', '')) r, count(*) n from parsed "
            "where reason is not null group by r order by n desc, r limit 3"
        ).fetchall()
        summary = "; ".join(f"{reason} ({n} rows)" for reason, n in reasons)
        share = rejected / total
        return (
            0,
            rejected,
            f"{source_file}: {rejected} of {total} rows rejected "
            f"({share:.1%} > {max_reject_share:.1%}): {summary}",
            None,
        )
    con.execute(
        "insert into bronze.raw_invoices select invoice_no_raw, stock_code_raw, description_raw, quantity, "
        "invoice_date, unit_price, customer_id_raw, country_raw, ?, _source_sheet, _source_row, ?, ? "
        "from parsed where reason is null",
        [source_file, load_id, loaded_at],
    )
    return total - rejected, rejected, None, earliest


def already_loaded(con: duckdb.DuckDBPyConnection, sha: str) -> str | None:
    row = con.execute(
        "select source_file from bronze.load_log where file_sha256 = ? and status = 'loaded' limit 1", [sha]
    ).fetchone()
    return row[0] if row else None


def load_rows(
    con: duckdb.DuckDBPyConnection, planned: PlannedLoad, load_id: str, max_reject_share: float
) -> tuple[int, int, list[str], str | None, datetime | None]:
    """Write one file's rows and rejects; return (loaded, rejected, ignored columns, failure or None,
    the earliest loaded line's date)."""
    path, source_file = planned.path, planned.source_file
    if planned.file.size == 0:
        return 0, 0, [], f"{source_file}: empty file (no header, no rows)", None
    fmt = FORMATS[path.suffix.lower()]
    if fmt != "xlsx":
        extra = (stage_csv if fmt == "csv" else stage_parquet)(con, path, source_file)
        loaded, rejected, failure, earliest = load_staged(
            con,
            load_id=load_id,
            source_file=source_file,
            max_reject_share=max_reject_share,
            loaded_at=planned.loaded_at,
            is_csv=fmt == "csv",
        )
        return loaded, rejected, extra, failure, earliest
    loaded = rejected = 0
    extra = []
    earliest = None
    for sheet, table in xlsx_sheet_tables(path):
        con.register("sheet_rows", table)
        extra += [
            name for name in stage_relation(con, source_file, "sheet_rows", sheet=sheet) if name not in extra
        ]
        sheet_loaded, sheet_rejected, failure, sheet_earliest = load_staged(
            con,
            load_id=load_id,
            source_file=source_file,
            max_reject_share=max_reject_share,
            loaded_at=planned.loaded_at,
        )
        con.unregister("sheet_rows")
        loaded, rejected = loaded + sheet_loaded, rejected + sheet_rejected
        earliest = min((d for d in (earliest, sheet_earliest) if d is not None), default=None)
        if failure:
            return loaded, rejected, extra, f"{failure} (sheet {sheet})", None
    return loaded, rejected, extra, None, earliest


def load_file(
    con: duckdb.DuckDBPyConnection, planned: PlannedLoad, run_id: str, max_reject_share: float
) -> FileLoad:
    """Load one file in one transaction.

    A file that cannot be read (missing column, corrupt bytes) is rolled back and logged as failed, so
    that one bad file neither stops the others nor leaves the connection in an aborted transaction.
    """
    path, source_file, sha = planned.path, planned.source_file, planned.sha256
    fmt = FORMATS[path.suffix.lower()]
    load_id = f"{sha[:16]}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"
    started = time.monotonic()
    con.execute("begin transaction")
    try:
        con.execute("delete from bronze.rejected_rows where load_id = ?", [load_id])
        loaded, rejected, extra, failure, earliest = load_rows(con, planned, load_id, max_reject_share)
    except Exception as error:
        con.execute("rollback")
        con.execute("begin transaction")
        con.execute("delete from bronze.rejected_rows where load_id = ?", [load_id])
        loaded, rejected, extra, earliest = 0, 0, [], None
        failure = (
            str(error)
            if isinstance(error, IngestError)
            else f"{source_file}: cannot read ({type(error).__name__}): {error}"
        )
    if failure:
        con.execute("delete from bronze.raw_invoices where _load_id = ?", [load_id])
        loaded, earliest = 0, None
    con.execute("delete from bronze.load_log where load_id = ?", [load_id])
    status = "failed" if failure else "loaded"
    message = failure or (f"ignored columns: {', '.join(extra)}" if extra else "")
    con.execute(
        "insert into bronze.load_log (load_id, run_id, source_file, file_sha256, file_format, file_bytes, "
        "status, rows_in_file, rows_loaded, rows_rejected, message, file_mtime_ns, earliest_invoiced_at, "
        "started_at, finished_at) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp - to_microseconds(?::bigint), "
        "now()::timestamp)",
        [
            load_id,
            run_id,
            source_file,
            sha,
            fmt,
            planned.file.size,
            status,
            loaded + rejected,
            loaded,
            rejected,
            message,
            planned.file.mtime_ns,
            earliest,
            int((time.monotonic() - started) * 1e6),
        ],
    )
    con.execute("commit")
    log.info(
        "%s %s: %d rows loaded, %d rejected in %.1f s",
        status,
        source_file,
        loaded,
        rejected,
        time.monotonic() - started,
    )
    return FileLoad(source_file, status, loaded + rejected, loaded, rejected, message)


def landing_files(landing_dir: Path) -> list[Path]:
    files = []
    for path in sorted(landing_dir.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(landing_dir).parts):
            continue
        if path.suffix.lower() in FORMATS:
            files.append(path)
        else:
            log.warning("skip %s: not CSV, XLSX or Parquet", path)
    return files


def ingest_start(con: duckdb.DuckDBPyConnection) -> datetime:
    """The `_loaded_at` of this ingest's first file: now, or just after the latest load's if that is later.

    Later loads must carry later stamps: silver and gold find the loads they have not read as those stamped
    from their own latest `_loaded_at` on (dbt macro is_new_load), so a clock set back (another machine, a
    restored VM) must not stamp a new load before an old one.
    """
    (started_at,) = con.execute(
        """
        select greatest(now()::timestamp, max(_loaded_at) + interval 1 millisecond)
        from bronze.raw_invoices
        """
    ).fetchone()
    return started_at


def loaded_by_quick_check(con: duckdb.DuckDBPyConnection, files: Sequence[LandingFile]) -> dict[str, str]:
    """{source_file: sha256} of the files whose name, size and mtime match a loaded file's log entry."""
    loaded = {
        (source_file, size, mtime_ns): sha
        for source_file, size, mtime_ns, sha in con.execute(
            "select source_file, file_bytes, file_mtime_ns, file_sha256 from bronze.load_log "
            "where status = 'loaded' and file_mtime_ns is not null"
        ).fetchall()
    }
    return {
        f.source_file: loaded[key] for f in files if (key := (f.source_file, f.size, f.mtime_ns)) in loaded
    }


def remember_mtime(con: duckdb.DuckDBPyConnection, file: LandingFile, sha: str) -> None:
    """Record the mtime of a file hashed again with the bytes it was loaded with (touched, copied back, or
    loaded before the quick check existed), so that the next run's quick check knows it."""
    con.execute(
        "update bronze.load_log set file_mtime_ns = ? where status = 'loaded' and source_file = ? "
        "and file_sha256 = ? and file_mtime_ns is distinct from ?",
        [file.mtime_ns, file.source_file, sha, file.mtime_ns],
    )


def plan_loads(
    con: duckdb.DuckDBPyConnection, paths: Sequence[Path], landing_dir: Path, workers: int
) -> tuple[list[PlannedLoad], int, int]:
    """The files to load, in listing order; how many are skipped as loaded before, and how many were hashed.

    Only files that fail the quick check are read and hashed (side by side). Bytes seen twice in one
    landing folder load once (the first name in the listing), as they would one file after another.
    """
    files = [LandingFile.of(path, landing_dir) for path in paths]
    known = loaded_by_quick_check(con, files)
    to_hash = [f for f in files if f.source_file not in known]
    hashes = dict(
        zip(
            (f.source_file for f in to_hash),
            parallel_map(file_sha256, [f.path for f in to_hash], workers, name="cltv-ingest"),
            strict=True,
        )
    )
    started_at = ingest_start(con)
    planned: list[PlannedLoad] = []
    seen: dict[str, str] = {}
    for position, file in enumerate(files):
        if file.source_file in known:
            seen.setdefault(known[file.source_file], file.source_file)
            continue
        sha = hashes[file.source_file]
        previous = already_loaded(con, sha) or seen.get(sha)
        if previous is not None:
            log.info("skip %s: same content already loaded as %s", file.source_file, previous)
            remember_mtime(con, file, sha)
            continue
        seen[sha] = file.source_file
        planned.append(PlannedLoad(file, sha, started_at + timedelta(microseconds=position)))
    log.info(
        "%d landing files: %d known by name, size and mtime, %d hashed, %d to load",
        len(files),
        len(known),
        len(to_hash),
        len(planned),
    )
    return planned, len(files) - len(planned), len(to_hash)


def load_files(
    con: duckdb.DuckDBPyConnection,
    planned: Sequence[PlannedLoad],
    *,
    run_id: str,
    max_reject_share: float,
    workers: int,
) -> list[FileLoad]:
    """Load the planned files side by side, each thread on its own cursor (a cursor is not thread-safe)."""
    local = threading.local()
    cursors: list[duckdb.DuckDBPyConnection] = []
    lock = threading.Lock()

    def load(item: PlannedLoad) -> FileLoad:
        if not hasattr(local, "cursor"):
            local.cursor = con.cursor()
            with lock:
                cursors.append(local.cursor)
        return load_file(local.cursor, item, run_id, max_reject_share)

    try:
        return parallel_map(load, planned, workers, name="cltv-ingest")
    finally:
        for cursor in cursors:
            cursor.close()


def ingest_workers(con: duckdb.DuckDBPyConnection) -> int:
    """Files loaded at once: DuckDB's thread count (CLTV_DUCKDB_THREADS, or every core)."""
    (threads,) = con.execute("select current_setting('threads')").fetchone()
    return max(1, int(threads))


def ingest_landing(settings: Settings, *, run_id: str, landing_dir: Path | None = None) -> IngestSummary:
    """Load every new file of the landing folder; raise `IngestError` naming each file that failed."""
    landing_dir = (landing_dir or settings.landing_dir).resolve()
    if not landing_dir.is_dir():
        raise IngestError(f"landing folder {landing_dir} does not exist")
    with connect(settings) as con:
        ensure_bronze_schema(con)
        workers = ingest_workers(con)
        planned, skipped, hashed = plan_loads(con, landing_files(landing_dir), landing_dir, workers)
        loads = load_files(
            con, planned, run_id=run_id, max_reject_share=settings.max_reject_share, workers=workers
        )
    summary = IngestSummary(
        run_id=run_id,
        files=loads,
        rows_loaded=sum(f.rows_loaded for f in loads),
        rows_rejected=sum(f.rows_rejected for f in loads),
        files_skipped=skipped,
        files_hashed=hashed,
    )
    failed = [f for f in loads if f.status == "failed"]
    if failed:
        raise IngestError("; ".join(f.message for f in failed))
    return summary
