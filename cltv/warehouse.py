"""Connections to the DuckDB warehouse: one writer at a time, always closed, memory bounded.

DuckDB lets one process write a file, and a reader in another process blocks the writer too. DuckDB's
own lock fails at once ("Could not set lock on file"); cltv's writers first take an advisory lock on
`<warehouse>.lock`, so a second writer waits its turn (or fails after a timeout with a clear message)
instead of crashing midway.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from cltv.config import Settings


class WarehouseBusyError(RuntimeError):
    """Another process holds the warehouse's writer lock for longer than we are willing to wait."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def writer_lock(warehouse: Path, timeout_seconds: float) -> Iterator[None]:
    """Hold the warehouse's exclusive writer lock; wait up to `timeout_seconds` for it."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(warehouse), "a+") as handle:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"another cltv process is writing {warehouse} (lock {lock_path(warehouse)}); "
                        f"gave up after {timeout_seconds:.0f} s"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def configure(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Bound DuckDB's memory and let it spill to a temp folder beside the warehouse."""
    con.execute(f"set memory_limit = '{settings.duckdb_memory_limit}'")
    con.execute(f"set temp_directory = '{settings.warehouse.parent / 'duckdb_tmp'}'")
    if settings.duckdb_threads > 0:
        con.execute(f"set threads = {settings.duckdb_threads}")


@contextmanager
def connect(
    settings: Settings | None = None, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (as the only writer unless `read_only`) and close it on exit, whatever happens."""
    settings = settings or Settings.from_env()
    path = settings.warehouse
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"warehouse {path} does not exist yet: run the pipeline first")
        con = duckdb.connect(str(path), read_only=True)
        try:
            configure(con, settings)
            yield con
        finally:
            con.close()
        return
    with writer_lock(path, settings.lock_timeout_seconds):
        con = duckdb.connect(str(path))
        try:
            configure(con, settings)
            yield con
        finally:
            con.close()
