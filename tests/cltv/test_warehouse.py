"""One writer at a time, across processes, and connections that never outlive their block."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from cltv.config import Settings
from cltv.warehouse import WarehouseBusyError, connect, writer_lock

HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cltv.warehouse import writer_lock
    with writer_lock(Path(sys.argv[1]), timeout_seconds=5):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def hold_lock_in_another_process(settings: Settings, seconds: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(settings.warehouse), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_writer_waits_for_the_first(settings: Settings):
    holder = hold_lock_in_another_process(settings, seconds=1.5)
    started = time.monotonic()
    with connect(settings) as con:
        waited = time.monotonic() - started
        con.execute("create table t as select 1 as x")
    holder.wait(timeout=10)
    assert waited >= 1.0


def test_a_writer_gives_up_after_the_timeout_with_a_clear_message(settings: Settings):
    holder = hold_lock_in_another_process(settings, seconds=3)
    busy = pytest.raises(WarehouseBusyError, match="another cltv process is writing")
    with busy, writer_lock(settings.warehouse, timeout_seconds=0.5):
        pass
    holder.wait(timeout=10)


def test_connections_are_closed_on_exit_even_after_an_error(settings: Settings):
    with pytest.raises(duckdb.CatalogException), connect(settings) as con:
        con.execute("select * from no_such_table")
    # Another process can now open the file for writing: nothing of ours holds DuckDB's file lock.
    probe = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('create table ok as select 1').close()"
    subprocess.run([sys.executable, "-c", probe, str(settings.warehouse)], check=True)


def test_read_only_connections_refuse_writes_and_missing_files(settings: Settings):
    with pytest.raises(FileNotFoundError, match="does not exist yet"), connect(settings, read_only=True):
        pass
    with connect(settings) as con:
        con.execute("create table t as select 1 as x")
    with connect(settings, read_only=True) as con:
        assert con.execute("select x from t").fetchall() == [(1,)]
        with pytest.raises(duckdb.InvalidInputException, match="read-only"):
            con.execute("insert into t values (2)")


def test_memory_limit_is_applied(settings: Settings):
    with connect(settings) as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit == "1.8 GiB"  # the fixture's 2GB (10^9 bytes), as DuckDB reports it
