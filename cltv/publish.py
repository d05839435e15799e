"""Publish gold for BI readers: a serving DuckDB file, Parquet and a manifest, swapped in atomically.

The pipeline's working warehouse is never opened by readers: a reader's lock would block the next run's
writers. Each publish builds a new, self-contained publication aside, in
`$CLTV_SERVING_DIR/publications/<publication id>/`:

    cltv.duckdb                       every gold table (`gold.<table>`) and `gold.publication` (one row,
                                      the run), written with storage compatibility v1.5.0 so that older
                                      DuckDB (in BI tools) can read it
    parquet/<table>/*.parquet         the same tables as Parquet: `data.parquet`, or one file per part for
                                      the tables of PARTITIONED: per month of a line-, invoice- or
                                      day-level table (`2011-01.parquet`), per run date of a table that
                                      keeps one slice per run or cutoff (`2011-12-09.parquet`)
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

A publication is written by difference with the current one, so that a monthly run's cost follows what
changed, not the size of history. A table's parts (or a whole table) are compared by row count and
checksum. Unchanged Parquet files are hard links to the current publication's (a sealed publication's files
never change, and removing an old publication unlinks a name, not the data). The serving file starts as a
copy of the current one (staged beside the ML stage when the DAG runs, `staging_serving_copy`, so that its
3.5 GB of writes at 100M lines are not in publish's path): unchanged tables stay as they are, a partitioned
table's changed parts are deleted and inserted again, other changed tables are written whole
(`plan_table`). The freed blocks are reused;
when more than MAX_FREE_BLOCK_SHARE of the file is free all the same, the next publish writes it anew. At
100M lines a monthly run so writes one month of `fct_invoices` and the new cutoffs' features, not the 87M
lines and 18M feature rows of history (tests/cltv/test_publish.py checks the patched file against gold).

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
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from cltv.config import Settings
from cltv.fingerprint import base_tables, row_hash_sum
from cltv.sql import literal, quoted
from cltv.timing import timed
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
STAGING_DIR = "staging"  # the copy of the current serving file that the next publish starts from
DEFAULT_KEEP = 3
SERVING_ALIAS = "serving"
# zstd at level 1: files as small as at the default level 3 for gold's columns, written ~30% faster
PARQUET_OPTIONS = "format parquet, compression zstd, compression_level 1"
CHECKSUM_METHOD = "sum over rows of DuckDB hash(row), as a decimal string (independent of row order)"


@dataclass(frozen=True)
class Partitioning:
    """A table published by parts: the months or days of a date column (one Parquet file each, see above)."""

    column: str
    period: str  # "month" or "day"

    def part_start(self) -> str:
        """SQL: the first day of a row's part (null without a date); named by `part_name`.

        Grouping by a date and naming the few groups afterwards is about twice as fast at 100M rows as
        formatting every row's date as text.
        """
        column = quoted(self.column)
        return f"date_trunc('month', {column})::date" if self.period == "month" else f"{column}::date"

    def part_name(self, start: date | None) -> str:
        """A part's name: `2011-01` (month) or `2011-01-31` (day), UNDATED without a date."""
        if start is None:
            return UNDATED
        return start.strftime("%Y-%m" if self.period == "month" else "%Y-%m-%d")

    def rows_of(self, parts: Iterable[str]) -> str:
        """SQL: a filter on the column itself for the rows of `parts` (so scans skip other row groups)."""
        return " or ".join(f"({self.part_range(part)})" for part in parts) or "false"

    def part_range(self, part: str) -> str:
        column = quoted(self.column)
        if part == UNDATED:
            return f"{column} is null"
        if self.period == "day":
            first = date.fromisoformat(part)
            after = first + timedelta(days=1)
        else:
            first = date.fromisoformat(f"{part}-01")
            after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return f"{column} >= date '{first}' and {column} < date '{after}'"


# Tables published by parts: line-, invoice- and day-level tables by month, tables that keep one slice per
# run date by day. A run changes few parts, and the others are neither written to Parquet nor rewritten in
# the serving file (a monthly run at 100M lines changes one month of customer_activity_days' 5.6M rows and
# of report_transactions' 6.8M invoices).
PARTITIONED = {
    "fct_invoices": Partitioning("invoice_date", "month"),
    "report_transactions": Partitioning("invoice_date", "month"),
    "customer_activity_days": Partitioning("activity_date", "month"),
    "customer_features": Partitioning("cutoff_date", "day"),
    "customer_predictions": Partitioning("as_of_date", "day"),
    "rfm_segment_history": Partitioning("as_of_date", "day"),
}
# A serving file patched (copied, then changed) until this share of its blocks is free is written anew next.
MAX_FREE_BLOCK_SHARE = 0.25
UNDATED = "undated"  # the part of rows without a date


class PublishError(RuntimeError):
    """Gold cannot be published as it stands (no gold schema, a reserved table name)."""


@dataclass(frozen=True)
class PublishedTable:
    name: str
    rows: int
    checksum: str
    # relative to the serving dir, inside the publication's own folder: the file, or the folder of a table
    # written by parts (PARTITIONED), whose parts are {"2011-01": {"rows", "checksum", "files"}}
    parquet: str
    partitioned_by: str = ""  # `invoice_date by month`: how `parts` are cut, empty for a table written whole
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)


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


WHOLE = ""  # the one part of a table not PARTITIONED


@dataclass(frozen=True)
class TablePlan:
    """How one gold table gets into a new publication (see `plan_table`).

    `parts` are the table's rows and checksum by part when it is published by `partitioning`, else as one
    part (WHOLE). `action`: `keep` (unchanged since the current publication: the copied table stays),
    `patch` (only `stale_parts` are deleted and inserted again) or `create` (written whole).
    """

    name: str
    partitioning: Partitioning | None
    parts: dict[str, tuple[int, int]]
    action: str = "create"
    stale_parts: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return sum(rows for rows, _ in self.parts.values())

    @property
    def checksum(self) -> int:
        return sum(checksum for _, checksum in self.parts.values())

    @property
    def partitioned_by(self) -> str:
        """As recorded in the manifest: `invoice_date by month`, or empty."""
        return f"{self.partitioning.column} by {self.partitioning.period}" if self.partitioning else ""


def table_columns(con: duckdb.DuckDBPyConnection, database: str, name: str) -> list[tuple[str, str]]:
    return con.execute(
        """
        select column_name, data_type from duckdb_columns()
        where database_name = ? and schema_name = ? and table_name = ?
        order by column_index
        """,
        [database, GOLD_SCHEMA, name],
    ).fetchall()


def part_checksums(
    con: duckdb.DuckDBPyConnection, relation: str, partitioning: Partitioning
) -> dict[str, tuple[int, int]]:
    """{part: (rows, checksum)}, the checksums of row_hash_sum per part: they add up to the table's."""
    rows = con.execute(
        f"select {partitioning.part_start()}, count(*), sum(hash(t)::hugeint) from {relation} as t group by 1"
    ).fetchall()
    return {partitioning.part_name(start): (int(count), int(total)) for start, count, total in rows}


def published_parts(table: PublishedTable) -> dict[str, tuple[int, int]]:
    """A published table's rows and checksum by part, as `TablePlan.parts`."""
    if table.partitioned_by:
        return {key: (part["rows"], int(part["checksum"])) for key, part in table.parts.items()}
    return {WHOLE: (table.rows, int(table.checksum))}


def published_files(table: PublishedTable) -> dict[str, list[str]]:
    """A published table's Parquet files by part, relative to the serving dir."""
    if table.partitioned_by:
        return {key: part["files"] for key, part in table.parts.items()}
    return {WHOLE: [table.parquet]}


@dataclass(frozen=True)
class TableContent:
    """A working gold table's columns and its rows and checksum by part: what `plan_table` compares."""

    name: str
    columns: list[tuple[str, str]]
    partitioning: Partitioning | None
    parts: dict[str, tuple[int, int]]


def table_content(con: duckdb.DuckDBPyConnection, name: str) -> TableContent:
    """Hash one working gold table (by part when PARTITIONED); reads the working warehouse only."""
    working = con.execute("select current_database()").fetchone()[0]
    columns = table_columns(con, working, name)
    partitioning = PARTITIONED.get(name)
    if partitioning and partitioning.column not in {column for column, _ in columns}:
        partitioning = None  # published whole
    source = f"{GOLD_SCHEMA}.{quoted(name)}"
    parts = part_checksums(con, source, partitioning) if partitioning else {WHOLE: row_hash_sum(con, source)}
    return TableContent(name, columns, partitioning, parts)


def plan_table(
    con: duckdb.DuckDBPyConnection,
    content: TableContent,
    current: PublishedTable | None,
    base_tables: set[str],
) -> TablePlan:
    """Keep, patch or create one table, comparing the working table with the current publication's."""
    name, partitioning, parts = content.name, content.partitioning, content.parts
    plan = TablePlan(name, partitioning, parts)
    if (
        name not in base_tables
        or current is None
        or current.partitioned_by != plan.partitioned_by
        or content.columns != table_columns(con, SERVING_ALIAS, name)
    ):
        return plan
    previous = published_parts(current)
    if parts == previous:
        return replace(plan, action="keep")
    if partitioning is None:
        return plan
    stale = sorted(part for part in set(parts) | set(previous) if parts.get(part) != previous.get(part))
    return replace(plan, action="patch", stale_parts=tuple(stale))


def remove_stale_rows(con: duckdb.DuckDBPyConnection, plans: list[TablePlan], base_tables: set[str]) -> None:
    """Drop the copied tables that are gone or rewritten whole, delete the parts being patched; checkpoint.

    Removing everything first and checkpointing lets the writes that follow reuse the freed blocks, so a
    patched serving file does not grow with every publication.
    """
    planned = {plan.name: plan for plan in plans}
    for name in sorted(base_tables):
        plan = planned.get(name)
        target = f"{SERVING_ALIAS}.{GOLD_SCHEMA}.{quoted(name)}"
        if plan is None or plan.action == "create":
            con.execute(f"drop table {target}")
        elif plan.action == "patch" and plan.partitioning:
            con.execute(f"delete from {target} where {plan.partitioning.rows_of(plan.stale_parts)}")
    con.execute(f"checkpoint {SERVING_ALIAS}")


def write_serving_table(con: duckdb.DuckDBPyConnection, plan: TablePlan) -> None:
    source = f"{GOLD_SCHEMA}.{quoted(plan.name)}"
    target = f"{SERVING_ALIAS}.{GOLD_SCHEMA}.{quoted(plan.name)}"
    if plan.action == "create":
        con.execute(f"create table {target} as select * from {source}")
    elif plan.action == "patch" and plan.partitioning:
        stale = [part for part in plan.stale_parts if part in plan.parts]
        con.execute(f"insert into {target} select * from {source} where {plan.partitioning.rows_of(stale)}")


def publish_parquet(
    con: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    table_dir: Path,
    serving_dir: Path,
    current: PublishedTable | None,
) -> PublishedTable:
    """Write a table's Parquet under `table_dir`, linking parts unchanged since `current`; its record."""
    table_dir.mkdir(parents=True)
    same_layout = current is not None and current.partitioned_by == plan.partitioned_by
    reused = link_unchanged_parts(plan.parts, current, table_dir, serving_dir) if same_layout else {}
    written = write_parts(con, plan, sorted(set(plan.parts) - set(reused)), table_dir)
    files = {**reused, **written}
    if plan.partitioning is None:
        (parquet_file,) = files[WHOLE]
        return PublishedTable(
            plan.name, plan.rows, str(plan.checksum), str(parquet_file.relative_to(serving_dir))
        )
    log.info("%s: %d parts written, %d unchanged (linked)", plan.name, len(written), len(reused))
    return PublishedTable(
        plan.name,
        plan.rows,
        str(plan.checksum),
        str(table_dir.relative_to(serving_dir)),
        plan.partitioned_by,
        {
            part: {
                "rows": rows,
                "checksum": str(checksum),
                "files": sorted(str(path.relative_to(serving_dir)) for path in files[part]),
            }
            for part, (rows, checksum) in sorted(plan.parts.items())
        },
    )


def link_unchanged_parts(
    parts: dict[str, tuple[int, int]], current: PublishedTable, table_dir: Path, serving_dir: Path
) -> dict[str, list[Path]]:
    """Hard-link the current publication's files of every part whose rows and checksum are unchanged."""
    previous_parts, previous_files = published_parts(current), published_files(current)
    linked: dict[str, list[Path]] = {}
    for part, rows_and_checksum in parts.items():
        if previous_parts.get(part) != rows_and_checksum:
            continue
        sources = [serving_dir / file for file in previous_files[part]]
        if not all(source.is_file() for source in sources):
            continue
        linked[part] = []
        for source in sources:
            os.link(source, table_dir / source.name)
            linked[part].append(table_dir / source.name)
    return linked


def write_parts(
    con: duckdb.DuckDBPyConnection, plan: TablePlan, parts: list[str], table_dir: Path
) -> dict[str, list[Path]]:
    """Write the given parts of a working gold table: `data.parquet`, or one file per part, one at a time.

    A part is selected by a date range, not by its name, so that the scan skips the other parts' row groups
    (zone maps); one part at a time keeps one Parquet writer's buffers in memory, not one per part.
    """
    source = f"{GOLD_SCHEMA}.{quoted(plan.name)}"
    written: dict[str, list[Path]] = {}
    for part in parts:
        if plan.partitioning is None:
            path, query = table_dir / "data.parquet", f"select * from {source}"
        else:
            path = table_dir / f"{part}.parquet"
            query = f"select * from {source} where {plan.partitioning.rows_of([part])}"
        con.execute(f"copy ({query}) to {literal(path)} ({PARQUET_OPTIONS})")
        written[part] = [path]
    return written


def current_manifest(settings: Settings) -> dict[str, Any] | None:
    """The current publication's manifest (None before the first publish)."""
    manifest = settings.serving_dir / CURRENT_LINK / MANIFEST_FILE
    return json.loads(manifest.read_text()) if manifest.exists() else None


def current_tables(manifest: dict[str, Any] | None) -> dict[str, PublishedTable]:
    """The tables of a publication's manifest, by name."""
    tables = {}
    for table in (manifest or {}).get("tables", []):
        if "months" in table:  # an older cltv's manifest, from before tables were published by parts
            table = dict(table)
            table["parts"] = table.pop("months")
            table["partitioned_by"] = "invoice_date by month" if table["parts"] else ""
        tables[table["name"]] = PublishedTable(**table)
    return tables


def base_serving_file(settings: Settings, manifest: dict[str, Any] | None) -> Path | None:
    """The current publication's serving file when a new one may start as its copy (module docstring)."""
    if manifest is None or manifest.get("storage_version") != STORAGE_VERSION:
        return None
    if manifest.get("serving_file", {}).get("free_block_share", 0.0) > MAX_FREE_BLOCK_SHARE:
        return None  # written anew, compact again
    path = settings.serving_dir / manifest["duckdb_file"]
    return path if path.is_file() else None


def staged_copy_path(settings: Settings, manifest: dict[str, Any]) -> Path:
    """Where the copy of a publication's serving file is staged for the next publish."""
    return settings.serving_dir / STAGING_DIR / f"{manifest['publication_id']}.duckdb"


def stage_serving_copy(settings: Settings) -> Path | None:
    """Copy the current serving file to where the next publish takes it from (`take_staged_copy`); its path,
    or None when the next publish will not start from a copy.

    Writing the copy (3.5 GB at 100M lines) costs 6-15 s of disk writes: staged while the ML stage computes
    (`staging_serving_copy`), they are not in publish's path. Written under a temporary name and renamed, so
    a copy cut short is never taken; a copy of an older publication, or one left half-written, is removed.
    """
    manifest = current_manifest(settings)
    base = base_serving_file(settings, manifest)
    if manifest is None or base is None:
        return None
    target = staged_copy_path(settings, manifest)
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.iterdir():
        if leftover != target:
            leftover.unlink(missing_ok=True)
    if target.is_file() and target.stat().st_size == base.stat().st_size:
        return target  # staged by an earlier try of this run
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(base, partial)
    os.replace(partial, target)
    return target


@contextmanager
def staging_serving_copy(settings: Settings) -> Iterator[None]:
    """Stage the next publish's copy of the serving file (`stage_serving_copy`) in a thread while the
    body runs, and wait for it after. A failure is logged, not raised: publish then copies the file itself."""

    def stage() -> None:
        try:
            with timed(log, "publish: staging a copy of the current serving file (beside the ML stage)"):
                stage_serving_copy(settings)
        except OSError as error:
            log.warning("publish: the serving file's copy was not staged (publish will copy it): %s", error)

    stager = threading.Thread(target=stage, name="cltv-stage-serving-copy", daemon=True)
    stager.start()
    try:
        yield
    finally:
        stager.join()


def take_staged_copy(settings: Settings, manifest: dict[str, Any], base: Path, database: Path) -> bool:
    """Move the staged copy of `base` (the current serving file) to `database`; False when there is none
    whole, so the caller copies. The staging folder is left empty either way."""
    staged = staged_copy_path(settings, manifest)
    taken = staged.is_file() and staged.stat().st_size == base.stat().st_size
    if taken:
        os.replace(staged, database)
        log.info("publish: the serving file starts from the copy staged beside the ML stage")
    shutil.rmtree(staged.parent, ignore_errors=True)
    return taken


def serving_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ?",
        [SERVING_ALIAS, GOLD_SCHEMA],
    ).fetchall()
    return {name for (name,) in rows}


def free_block_share(con: duckdb.DuckDBPyConnection) -> float:
    """The share of the serving file's blocks that are free (left by dropped and deleted rows)."""
    free, total = con.execute(
        "select free_blocks, total_blocks from pragma_database_size() where database_name = ?",
        [SERVING_ALIAS],
    ).fetchone()
    return round(free / total, 4) if total else 0.0


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
    """Write the serving file and Parquet of a new publication into `directory`; its manifest.

    The serving file starts as a copy of the current one when it can (`base_serving_file`) and is patched
    where gold changed (module docstring); otherwise every table is written into a new file.
    """
    database = directory / SERVING_FILE
    relative = directory.relative_to(settings.serving_dir)
    previous = current_manifest(settings)
    current = current_tables(previous)
    base = base_serving_file(settings, previous)
    staged = base is not None and take_staged_copy(settings, previous, base, database)
    with connect(settings, read_only=True) as con:
        # Copying the serving file is disk work and hashing gold is CPU work: side by side, a copy not
        # staged during the ML stage (6-15 s for 3.5 GB at 100M lines) costs only what outlasts the hashing.
        to_copy = None if staged else base
        copy_note = " (the current serving file copied beside it)" if to_copy is not None else ""
        with (
            timed(log, f"publish: hashing gold{copy_note}"),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="cltv-publish-copy") as copier,
        ):
            copying = copier.submit(shutil.copyfile, to_copy, database) if to_copy is not None else None
            contents = [table_content(con, name) for name in gold_tables(con, settings)]
            if copying is not None:
                copying.result()
        options = f"storage_version '{STORAGE_VERSION}', read_only false"
        con.execute(f"attach {literal(database)} as {SERVING_ALIAS} ({options})")
        try:
            con.execute(f"create schema if not exists {SERVING_ALIAS}.{GOLD_SCHEMA}")
            copied = serving_tables(con)
            plans = [plan_table(con, content, current.get(content.name), copied) for content in contents]
            with timed(log, "publish: removing stale rows from the serving file"):
                remove_stale_rows(con, plans, copied)
            tables: list[PublishedTable] = []
            with timed(log, "publish: writing changed tables and their Parquet"):
                for plan in plans:
                    write_serving_table(con, plan)
                    table_dir = directory / PARQUET_LINK / plan.name
                    tables.append(
                        publish_parquet(con, plan, table_dir, settings.serving_dir, current.get(plan.name))
                    )
                con.execute(f"checkpoint {SERVING_ALIAS}")
            actions = {plan.name: plan.action for plan in plans}
            manifest = {
                "publication_id": directory.name,
                "run_id": run_id,
                "as_of": as_of.isoformat(),
                "published_at": published_at.isoformat(),
                "storage_version": STORAGE_VERSION,
                "duckdb_file": str(relative / SERVING_FILE),
                "parquet_dir": str(relative / PARQUET_LINK),
                "checksum_method": CHECKSUM_METHOD,
                "serving_file": {
                    "copied_from": previous["publication_id"] if base is not None else None,
                    "tables": actions,
                    "free_block_share": free_block_share(con),
                },
                "tables": [asdict(table) for table in tables],
            }
            log.info("serving file %s: %s", "patched" if base is not None else "written anew", actions)
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
            with timed(log, "publish: sealing (read-only, flushed to disk)"):
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
