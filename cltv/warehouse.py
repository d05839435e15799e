"""Connections to the DuckDB warehouse: one writer at a time, always closed, memory bounded.

DuckDB lets one process write a file, and a reader in another process blocks the writer too. DuckDB's
own lock fails at once ("Could not set lock on file"); cltv first takes an advisory lock on
`<warehouse>.lock`: exclusive for a writer, shared for a reader. So a writer waits for readers and other
writers, a reader waits for a writer (readers share), and whoever waits too long fails with a clear message
instead of crashing midway. Within one process the lock is re-entrant: a reader opened while the process
holds the exclusive lock (a quality gate verifying under the writer lock) does not wait for itself.
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


# Lock files this process holds exclusively: nested users (readers or writers) need not lock again.
_HELD_EXCLUSIVE: set[Path] = set()


@contextmanager
def writer_lock(warehouse: Path, timeout_seconds: float, *, shared: bool = False) -> Iterator[None]:
    """Hold the warehouse's lock, exclusive or `shared` (readers); wait up to `timeout_seconds` for it."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(warehouse).resolve()
    if path in _HELD_EXCLUSIVE:
        yield
        return
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"another cltv process is {'writing' if shared else 'writing or reading'} "
                        f"{warehouse} (lock {path}); "
                        f"gave up after {timeout_seconds:.0f} s"
                    ) from None
                time.sleep(0.2)
        if not shared:
            _HELD_EXCLUSIVE.add(path)
        try:
            yield
        finally:
            if not shared:
                _HELD_EXCLUSIVE.discard(path)
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
        with writer_lock(path, settings.lock_timeout_seconds, shared=True):
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
