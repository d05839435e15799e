"""Publish gold for BI readers: a serving DuckDB file, Parquet and a manifest, swapped in atomically.

The pipeline's working warehouse is never opened by readers: a reader's lock would block the next run's
writers. Each publish builds a new, self-contained publication aside, in
`$CLTV_SERVING_DIR/publications/<publication id>/`:

    cltv.duckdb                       every gold table (`gold.<table>`) and `gold.publication` (one row,
                                      the run), written with storage compatibility v1.5.0 so that older
                                      DuckDB (in BI tools) can read it
    parquet/<table>/*.parquet         the same tables as Parquet: `data.parquet`, or for line-level tables
                                      one file per month (`2011-01.parquet`, see PARQUET_MONTHS)
    manifest.json                     run_id, as_of, published_at, tables with row counts and checksums

and then makes it current with one atomic rename, of the `current` link:

    $CLTV_SERVING_DIR/current         a symlink to `publications/<publication id>`, renamed over the old one
    $CLTV_SERVING_DIR/cltv.duckdb     fixed symlinks through it: `current/cltv.duckdb`,
    $CLTV_SERVING_DIR/parquet           `current/parquet` and `current/manifest.json` (made once)
    $CLTV_SERVING_DIR/manifest.json

So the file, the Parquet folder and the manifest a reader opens always belong to one publication, even
when a publish is killed at any instant (tested in tests/resilience/test_publish_kill.py).

Why switching a publication that readers have open is safe (verified in tests/cltv/test_publish.py): a
reader that opened the old file keeps its inode, and its DuckDB lock is on that inode, so the publish is
never blocked and the reader sees the old run until it closes; the next open sees the new file. A reader
therefore sees one whole run, never a mix, provided it reads through one connection. DuckDB caches an open
database per path inside a process: a reader that keeps any connection to the path open keeps getting the
old file from that cache, so readers close between reads (`open_serving`).

A line-level table's months whose rows are unchanged since the current publication are not written again:
their Parquet files are hard links to the current publication's (a sealed publication's files never change,
and removing an old publication unlinks a name, not the data). A month's rows are compared by count and
checksum. At 100M lines a monthly run so writes one month of `fct_invoices`, not 1.3 GB.

Parquet readers that read several tables and need them from one run resolve the `parquet` symlink once (or
take `parquet_dir` from the manifest) and read the versioned folder, which outlives the swap by
`CLTV_SERVING_KEEP - 1` publications.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from cltv.config import Settings
from cltv.fingerprint import base_tables, row_hash_sum
from cltv.sql import literal, quoted
from cltv.warehouse import connect, writer_lock

log = logging.getLogger(__name__)

GOLD_SCHEMA = "gold"
PUBLICATION_TABLE = "publication"
STORAGE_VERSION = "v1.5.0"
SERVING_FILE = "cltv.duckdb"
PARQUET_LINK = "parquet"
CURRENT_LINK = "current"
MANIFEST_FILE = "manifest.json"
PUBLICATIONS_DIR = "publications"
DEFAULT_KEEP = 3
SERVING_ALIAS = "serving"
CHECKSUM_METHOD = "sum over rows of DuckDB hash(row), as a decimal string (independent of row order)"
# Line-level tables written as one Parquet file per month of this date column (see the module docstring).
PARQUET_MONTHS = {"fct_invoices": "invoice_date"}
UNDATED = "undated"  # the month of rows without a date


class PublishError(RuntimeError):
    """Gold cannot be published as it stands (no gold schema, a reserved table name)."""


@dataclass(frozen=True)
class PublishedTable:
    name: str
    rows: int
    checksum: str
    # relative to the serving dir, inside the publication's own folder: the file, or the folder of a table
    # written by month (PARQUET_MONTHS), whose months are {"2011-01": {"rows", "checksum", "files"}}
    parquet: str
    months: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Publication:
    """What one publish made current, with paths readers use."""

    publication_id: str
    run_id: str
    as_of: date
    published_at: datetime
    duckdb_path: Path  # the current serving file, $CLTV_SERVING_DIR/cltv.duckdb
    parquet_dir: Path  # the publication's versioned Parquet folder ($CLTV_SERVING_DIR/parquet points to it)
    manifest_path: Path
    directory: Path
    tables: tuple[PublishedTable, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for XCom and logs."""
        data = asdict(self)
        data.update(
            as_of=self.as_of.isoformat(),
            published_at=self.published_at.isoformat(),
            duckdb_path=str(self.duckdb_path),
            parquet_dir=str(self.parquet_dir),
            manifest_path=str(self.manifest_path),
            directory=str(self.directory),
        )
        return data


def serving_keep(settings: Settings) -> int:
    """Publications kept (the current one included): `CLTV_SERVING_KEEP`, default 3, at least 1."""
    return settings.serving_keep


def serving_path(settings: Settings) -> Path:
    return settings.serving_dir / SERVING_FILE


def publication_id(run_id: str, published_at: datetime) -> str:
    """Sortable by time (retention relies on it) and naming the run; safe as a folder name."""
    safe_run = re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("._") or "run"
    return f"{published_at:%Y%m%dT%H%M%S%fZ}_{safe_run[:80]}"


def gold_tables(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """The base tables of the working warehouse's gold schema; fails clearly when there are none."""
    names = base_tables(con, GOLD_SCHEMA)
    if not names:
        raise PublishError(
            f"warehouse {settings.warehouse} has no tables in schema '{GOLD_SCHEMA}': "
            "run dbt (and the ML stage) before publishing"
        )
    if PUBLICATION_TABLE in names:
        raise PublishError(f"gold.{PUBLICATION_TABLE} is reserved for the publication's own record")
    return names


def table_checksum(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """A content checksum that does not depend on row order (see CHECKSUM_METHOD)."""
    return str(row_hash_sum(con, relation)[1])


def copy_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    table_dir: Path,
    serving_dir: Path,
    current: PublishedTable | None,
) -> PublishedTable:
    """Copy one gold table into the serving file and to Parquet under `table_dir`; what was published."""
    source = f"{GOLD_SCHEMA}.{quoted(name)}"
    target = f"{SERVING_ALIAS}.{GOLD_SCHEMA}.{quoted(name)}"
    con.execute(f"create table {target} as select * from {source}")
    table_dir.mkdir(parents=True)
    relative = str(table_dir.relative_to(serving_dir))
    if name not in PARQUET_MONTHS:
        parquet_file = table_dir / "data.parquet"
        con.execute(f"copy {target} to {literal(parquet_file)} (format parquet, compression zstd)")
        rows, checksum = row_hash_sum(con, target)
        return PublishedTable(name, rows, str(checksum), str(parquet_file.relative_to(serving_dir)))
    months = month_checksums(con, target, PARQUET_MONTHS[name])
    reused = link_unchanged_months(months, current, table_dir, serving_dir)
    written = write_months(con, target, PARQUET_MONTHS[name], sorted(set(months) - set(reused)), table_dir)
    files = {**reused, **written}
    log.info("%s: %d months written, %d unchanged (linked)", name, len(written), len(reused))
    return PublishedTable(
        name,
        sum(rows for rows, _ in months.values()),
        str(sum(checksum for _, checksum in months.values())),
        relative,
        {
            month: {
                "rows": rows,
                "checksum": str(checksum),
                "files": sorted(str(path.relative_to(serving_dir)) for path in files[month]),
            }
            for month, (rows, checksum) in sorted(months.items())
        },
    )


def month_expression(column: str) -> str:
    return f"coalesce(strftime({quoted(column)}, '%Y-%m'), '{UNDATED}')"


def month_checksums(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> dict[str, tuple[int, int]]:
    """{month: (rows, checksum)}, the checksums of row_hash_sum per month: they add up to the table's."""
    rows = con.execute(
        f"select {month_expression(column)}, count(*), sum(hash(t)::hugeint) from {relation} as t group by 1"
    ).fetchall()
    return {month: (int(count), int(total)) for month, count, total in rows}


def link_unchanged_months(
    months: dict[str, tuple[int, int]], current: PublishedTable | None, table_dir: Path, serving_dir: Path
) -> dict[str, list[Path]]:
    """Hard-link the current publication's files of every month whose rows and checksum are unchanged."""
    linked: dict[str, list[Path]] = {}
    for month, (rows, checksum) in months.items():
        previous = current.months.get(month) if current else None
        if not previous or (previous["rows"], previous["checksum"]) != (rows, str(checksum)):
            continue
        sources = [serving_dir / file for file in previous["files"]]
        if not all(source.is_file() for source in sources):
            continue
        linked[month] = []
        for source in sources:
            os.link(source, table_dir / source.name)
            linked[month].append(table_dir / source.name)
    return linked


def write_months(
    con: duckdb.DuckDBPyConnection, relation: str, column: str, months: list[str], table_dir: Path
) -> dict[str, list[Path]]:
    """Write the given months of a table, one file each (`<month>.parquet`), one month at a time.

    A month is selected by a date range, not by its name, so that the scan skips the other months' row groups
    (zone maps); one month at a time keeps one Parquet writer's buffers in memory, not one per month.
    """
    written: dict[str, list[Path]] = {}
    for month in months:
        path = table_dir / f"{month}.parquet"
        con.execute(
            f"copy (select * from {relation} where {month_range(column, month)}) "
            f"to {literal(path)} (format parquet, compression zstd)"
        )
        written[month] = [path]
    return written


def month_range(column: str, month: str) -> str:
    """The rows of one month of `month_expression`, as a filter on the column itself."""
    if month == UNDATED:
        return f"{quoted(column)} is null"
    first = date.fromisoformat(f"{month}-01")
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return f"{quoted(column)} >= date '{first}' and {quoted(column)} < date '{after}'"


def current_tables(settings: Settings) -> dict[str, PublishedTable]:
    """The tables of the current publication, by name (empty before the first publish)."""
    manifest = settings.serving_dir / CURRENT_LINK / MANIFEST_FILE
    if not manifest.exists():
        return {}
    return {table["name"]: PublishedTable(**table) for table in json.loads(manifest.read_text())["tables"]}


def write_publication_record(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any]) -> None:
    """`gold.publication`: the run inside the file itself, so a reader checks what it reads in one query."""
    con.execute(
        f"""
        create table {SERVING_ALIAS}.{GOLD_SCHEMA}.{PUBLICATION_TABLE} as
        select ?::varchar as publication_id, ?::varchar as run_id, ?::date as as_of,
               ?::timestamptz as published_at, ?::integer as table_count, ?::json as manifest
        """,
        [
            manifest["publication_id"],
            manifest["run_id"],
            manifest["as_of"],
            manifest["published_at"],
            len(manifest["tables"]),
            json.dumps(manifest),
        ],
    )


def build_publication(
    settings: Settings, directory: Path, *, run_id: str, as_of: date, published_at: datetime
) -> dict[str, Any]:
    """Write the serving file and Parquet of a new publication into `directory`; its manifest."""
    database = directory / SERVING_FILE
    relative = directory.relative_to(settings.serving_dir)
    tables: list[PublishedTable] = []
    current = current_tables(settings)
    with connect(settings, read_only=True) as con:
        names = gold_tables(con, settings)
        options = f"storage_version '{STORAGE_VERSION}', read_only false"
        con.execute(f"attach {literal(database)} as {SERVING_ALIAS} ({options})")
        try:
            con.execute(f"create schema {SERVING_ALIAS}.{GOLD_SCHEMA}")
            for name in names:
                table_dir = directory / PARQUET_LINK / name
                tables.append(copy_table(con, name, table_dir, settings.serving_dir, current.get(name)))
            manifest = {
                "publication_id": directory.name,
                "run_id": run_id,
                "as_of": as_of.isoformat(),
                "published_at": published_at.isoformat(),
                "storage_version": STORAGE_VERSION,
                "duckdb_file": str(relative / SERVING_FILE),
                "parquet_dir": str(relative / PARQUET_LINK),
                "checksum_method": CHECKSUM_METHOD,
                "tables": [asdict(table) for table in tables],
            }
            write_publication_record(con, manifest)
            con.execute(f"checkpoint {SERVING_ALIAS}")
        finally:
            con.execute(f"detach {SERVING_ALIAS}")
    if database.with_name(database.name + ".wal").exists():
        raise PublishError(f"{database} left a WAL behind after detach: readers would not see all of it")
    write_json_atomically(directory / MANIFEST_FILE, manifest)
    return manifest


def seal(directory: Path) -> None:
    """Make a publication read-only and flush it, so that a crash after the swap cannot expose a torn file.

    Read-only on disk: a BI tool that opens the serving file read-write would otherwise be able to change a
    publication (and leave a WAL beside the serving path); with 0444 it has to open it read-only.
    """
    for root, _, files in os.walk(directory):
        for name in files:
            path = Path(root) / name
            path.chmod(0o444)
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(root))


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def swap_in(settings: Settings, directory: Path) -> None:
    """Make a built publication current: one atomic rename of the `current` link (module docstring)."""
    serving_dir = settings.serving_dir
    temporary = serving_dir / f".{CURRENT_LINK}.{directory.name}.tmp"
    os.symlink(Path(PUBLICATIONS_DIR) / directory.name, temporary)
    os.replace(temporary, serving_dir / CURRENT_LINK)
    for name in (SERVING_FILE, PARQUET_LINK, MANIFEST_FILE):
        ensure_link(serving_dir / name, Path(CURRENT_LINK) / name)
    fsync_dir(serving_dir)


def ensure_link(path: Path, target: Path) -> None:
    """A fixed relative symlink, made once (it replaces a file of an older layout atomically)."""
    if path.is_symlink() and os.readlink(path) == str(target):
        return
    temporary = path.with_name(f".{path.name}.link.tmp")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    os.replace(temporary, path)


def is_complete(directory: Path) -> bool:
    return (directory / MANIFEST_FILE).exists()


def prune_publications(settings: Settings, keep: int, current: Path) -> list[Path]:
    """Remove all but the newest `keep` complete publications, and leftovers of builds that died midway."""
    root = settings.serving_dir / PUBLICATIONS_DIR
    found = sorted((path for path in root.iterdir() if path.is_dir()), key=lambda path: path.name)
    complete = [path for path in found if is_complete(path)]
    doomed = [path for path in found if not is_complete(path)] + complete[:-keep]
    removed = [path for path in doomed if path != current]
    for path in removed:
        shutil.rmtree(path)
    return removed


def publish(settings: Settings, *, run_id: str, as_of: date, keep: int | None = None) -> Publication:
    """Publish every gold table for BI readers (see the module docstring); the DAG's last task.

    Opens the working warehouse read-only: call it only when the pipeline's writers are done and every check
    passed. Publishes are serialised by a lock on the serving dir. `keep` defaults to CLTV_SERVING_KEEP.
    """
    started = time.monotonic()
    keep = serving_keep(settings) if keep is None else keep
    published_at = datetime.now(UTC)
    settings.serving_dir.mkdir(parents=True, exist_ok=True)
    with writer_lock(serving_path(settings), settings.lock_timeout_seconds):
        directory = settings.serving_dir / PUBLICATIONS_DIR / publication_id(run_id, published_at)
        directory.mkdir(parents=True)
        try:
            manifest = build_publication(
                settings, directory, run_id=run_id, as_of=as_of, published_at=published_at
            )
            seal(directory)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)  # the current publication is untouched
            raise
        swap_in(settings, directory)
        removed = prune_publications(settings, keep, current=directory)
    publication = Publication(
        publication_id=directory.name,
        run_id=run_id,
        as_of=as_of,
        published_at=published_at,
        duckdb_path=serving_path(settings),
        parquet_dir=directory / PARQUET_LINK,
        manifest_path=settings.serving_dir / MANIFEST_FILE,
        directory=directory,
        tables=tuple(PublishedTable(**table) for table in manifest["tables"]),
        seconds=time.monotonic() - started,
    )
    log.info(
        "published run %s (as_of %s) as %s: %d tables, %d rows, %.2f s; removed %d old publication(s)",
        run_id,
        as_of,
        publication.publication_id,
        len(publication.tables),
        sum(table.rows for table in publication.tables),
        publication.seconds,
        len(removed),
    )
    return publication


@contextmanager
def open_serving(settings: Settings | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the current publication, closed on exit.

    Read everything that must come from one run through one connection, and let it close: the next open
    sees the newest publication (a connection held open keeps the old one, also for later opens of the path
    in the same process).
    """
    settings = settings or Settings.from_env()
    path = serving_path(settings)
    if not path.exists():
        raise FileNotFoundError(f"nothing published yet at {path}: run the pipeline's publish step first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def read_manifest(settings: Settings | None = None) -> dict[str, Any]:
    """The current publication's manifest (what `$CLTV_SERVING_DIR/manifest.json` says)."""
    settings = settings or Settings.from_env()
    path = settings.serving_dir / MANIFEST_FILE
    if not path.exists():
        raise FileNotFoundError(f"nothing published yet at {path}: run the pipeline's publish step first")
    return json.loads(path.read_text())
