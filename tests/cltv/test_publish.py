"""Publishing gold: what lands in the serving folder, and what readers in other processes see meanwhile."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cltv.config import Settings
from cltv.publish import (
    Publication,
    PublishError,
    open_serving,
    publish,
    read_manifest,
    stage_serving_copy,
    staging_serving_copy,
)
from cltv.warehouse import connect

AS_OF = date(2011, 11, 30)
# DuckDB 2.0 writes version number 999 in its own format; 1.x readers accept numbers up to 68 (v1.5.0).
V1_5_HEADER_VERSION = 68


def write_gold(settings: Settings, run_id: str, customers: int = 50) -> None:
    """A small gold schema whose rows carry the run id, and a silver table that must not be published."""
    with connect(settings) as con:
        con.execute("create schema if not exists gold; create schema if not exists silver")
        con.execute(
            """
            create or replace table gold.customer_predictions as
            select range::integer as customer_id, ?::date as as_of_date, ?::varchar as run_tag,
                   (range * 1.25)::decimal(18, 2) as predicted_clv, now() as predicted_at
            from range(?)
            """,
            [AS_OF, run_id, customers],
        )
        con.execute(
            """
            create or replace table gold.rfm_segments as
            select range::integer as customer_id, ['champions', 'at risk'][range % 2 + 1] as segment,
                   ?::varchar as run_tag
            from range(?)
            """,
            [run_id, customers * 2],
        )
        # a line-level table, published to Parquet by month: 90 lines, 15 a month, January to June 2011
        con.execute(
            """
            create or replace table gold.fct_invoices as
            select range::integer as invoice_line_id, date '2011-01-01' + interval (range // 15) month
                   + interval (range % 15) day as invoice_date, (range * 1.5)::decimal(18, 3) as revenue
            from range(90)
            """
        )
        con.execute("create or replace table silver.scratch as select 1 as x")
        con.execute("create or replace view gold.v_predictions as select * from gold.customer_predictions")


def content(publication: Publication) -> list[tuple[str, int, str]]:
    return [(table.name, table.rows, table.checksum) for table in publication.tables]


def serving_values(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with open_serving(settings) as con:
        return con.execute(sql).fetchall()


def header_version(path: Path) -> int:
    """The storage version number in a DuckDB file's header (after 8 checksum bytes and the magic DUCK)."""
    header = path.read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    return int.from_bytes(header[12:20], "little")


def test_gold_tables_are_published_with_counts_checksums_and_a_manifest(settings: Settings):
    write_gold(settings, "run-1")
    publication = publish(settings, run_id="run-1", as_of=AS_OF)

    assert {table.name: table.rows for table in publication.tables} == {
        "customer_predictions": 50,
        "fct_invoices": 90,
        "rfm_segments": 100,
    }
    assert publication.duckdb_path == settings.serving_dir / "cltv.duckdb"
    as_xcom = json.loads(json.dumps(publication.to_dict()))  # what the DAG task returns
    assert (as_xcom["run_id"], as_xcom["as_of"], as_xcom["tables"][0]["rows"]) == ("run-1", "2011-11-30", 50)
    tables = serving_values(
        settings,
        "select schema_name, table_name from duckdb_tables() order by all",
    )
    assert tables == [
        ("gold", "customer_predictions"),
        ("gold", "fct_invoices"),
        ("gold", "publication"),
        ("gold", "rfm_segments"),
    ]
    assert serving_values(settings, "select count(*) from duckdb_views() where not internal") == [(0,)]
    assert stat.S_IMODE(publication.duckdb_path.stat().st_mode) == 0o444  # BI tools must open it read-only
    assert serving_values(settings, "select run_id, as_of, table_count from gold.publication") == [
        ("run-1", AS_OF, 3)
    ]
    assert serving_values(settings, "select sum(predicted_clv) from gold.customer_predictions") == [
        (sum(i * 1.25 for i in range(50)),)
    ]

    manifest = read_manifest(settings)
    assert manifest == json.loads((publication.directory / "manifest.json").read_text())
    assert manifest["run_id"] == "run-1"
    assert manifest["as_of"] == "2011-11-30"
    assert manifest["publication_id"] == publication.publication_id
    assert manifest["published_at"] == publication.published_at.isoformat()
    assert manifest["storage_version"] == "v1.5.0"
    assert [(t["name"], t["rows"]) for t in manifest["tables"]] == [
        ("customer_predictions", 50),
        ("fct_invoices", 90),
        ("rfm_segments", 100),
    ]
    assert [t["partitioned_by"] for t in manifest["tables"]] == [
        "as_of_date by day",
        "invoice_date by month",
        "",
    ]
    assert manifest["tables"][0]["parts"]["2011-11-30"]["rows"] == 50
    assert {month: entry["rows"] for month, entry in manifest["tables"][1]["parts"].items()} == {
        f"2011-0{month}": 15 for month in range(1, 7)
    }
    assert all(t["checksum"].lstrip("-").isdigit() for t in manifest["tables"])
    assert manifest["tables"][0]["checksum"] != manifest["tables"][1]["checksum"]


def test_the_serving_file_is_written_in_the_v1_5_storage_format(settings: Settings):
    write_gold(settings, "run-1")
    publication = publish(settings, run_id="run-1", as_of=AS_OF)

    with duckdb.connect(str(publication.duckdb_path), read_only=True) as con:
        tags = con.execute("select tags from duckdb_databases() where database_name = current_database()")
        assert tags.fetchone()[0] == {"storage_version": "v1.5.0+"}
    assert header_version(publication.duckdb_path) == V1_5_HEADER_VERSION
    # The working warehouse, by contrast, is in DuckDB 2.0's own format: the check can tell them apart.
    assert header_version(settings.warehouse) != V1_5_HEADER_VERSION


def test_parquet_matches_the_serving_file_row_for_row(settings: Settings):
    write_gold(settings, "run-1")
    publication = publish(settings, run_id="run-1", as_of=AS_OF)

    current = settings.serving_dir / "parquet"
    assert current.is_symlink()
    assert current.resolve() == publication.parquet_dir.resolve()
    with duckdb.connect() as con:
        for table in publication.tables:
            files = str(current / table.name / "*.parquet")
            rows, checksum = con.execute(
                f"select count(*), coalesce(sum(hash(t)::hugeint), 0)::varchar from '{files}' as t"
            ).fetchone()
            assert (rows, checksum) == (table.rows, table.checksum)


def month_files(publication: Publication) -> dict[str, os.stat_result]:
    """The stat of each month's Parquet file of fct_invoices, by file name."""
    return {path.name: path.stat() for path in (publication.parquet_dir / "fct_invoices").glob("*.parquet")}


def publish_then_change_february(settings: Settings) -> Publication:
    """Publish gold, then change one line of fct_invoices' February; the publication."""
    write_gold(settings, "run-1")
    first = publish(settings, run_id="run-1", as_of=AS_OF)
    with connect(settings) as con:
        con.execute("update gold.fct_invoices set revenue = revenue + 1 where invoice_line_id = 20")
    return first


def test_a_line_table_is_published_by_month_and_unchanged_months_are_not_written_again(settings: Settings):
    first = publish_then_change_february(settings)
    with connect(settings) as con:
        con.execute("insert into gold.fct_invoices values (90, date '2011-07-01', 2.5)")
    second = publish(settings, run_id="run-2", as_of=AS_OF)

    before, after = month_files(first), month_files(second)
    months = [f"2011-0{month}.parquet" for month in range(1, 7)]
    assert sorted(before) == months
    assert sorted(after) == [*months, "2011-07.parquet"]
    linked = [name for name in before if after[name].st_ino == before[name].st_ino]
    assert sorted(linked) == [
        "2011-01.parquet",
        "2011-03.parquet",
        "2011-04.parquet",
        "2011-05.parquet",
        "2011-06.parquet",
    ]
    table = next(table for table in second.tables if table.name == "fct_invoices")
    assert (table.rows, table.parts["2011-02"]["rows"], table.parts["2011-07"]["rows"]) == (91, 15, 1)
    with duckdb.connect() as con:
        assert (
            con.execute(f"select sum(revenue) from '{second.parquet_dir}/fct_invoices/*.parquet'").fetchone()
            == serving_values(settings, "select sum(revenue) from gold.fct_invoices")[0]
        )

    shutil.rmtree(first.directory)  # pruning the old publication leaves the linked months readable
    assert serving_values(settings, "select count(*) from gold.fct_invoices") == [(91,)]
    with duckdb.connect() as con:
        assert con.execute(
            f"select count(*) from '{second.parquet_dir}/fct_invoices/*.parquet'"
        ).fetchone() == (91,)


def gold_content(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Rows and checksum of every gold table but gold.publication (the serving file's own record)."""
    names = con.execute(
        "select table_name from duckdb_tables() where schema_name = 'gold' and table_name != 'publication'"
    ).fetchall()
    checksum = "select count(*), coalesce(sum(hash(t)::hugeint), 0)::varchar from gold.{} as t"
    return {name: con.execute(checksum.format(name)).fetchone() for (name,) in names}


def working_content(settings: Settings) -> dict[str, tuple[int, str]]:
    with connect(settings, read_only=True) as con:
        return gold_content(con)


def serving_content(settings: Settings) -> dict[str, tuple[int, str]]:
    with open_serving(settings) as con:
        return gold_content(con)


def test_the_next_serving_file_is_the_current_one_patched_where_gold_changed(settings: Settings):
    first = publish_then_change_february(settings)
    with connect(settings) as con:
        con.execute("delete from gold.fct_invoices where invoice_date >= date '2011-06-01'")  # June, gone
        con.execute("insert into gold.fct_invoices values (90, date '2011-07-01', 2.5), (91, null, 1.0)")
        con.execute("update gold.customer_predictions set predicted_clv = 0 where customer_id = 7")
        con.execute("alter table gold.rfm_segments add column score integer default 3")  # a new column
        con.execute("create table gold.report_new as select 1 as x")
    second = publish(settings, run_id="run-2", as_of=AS_OF)

    manifest = read_manifest(settings)
    assert manifest["serving_file"]["copied_from"] == first.publication_id
    assert manifest["serving_file"]["tables"] == {
        "customer_predictions": "patch",  # one run date, as_of_date, changed
        "fct_invoices": "patch",
        "report_new": "create",
        "rfm_segments": "create",
    }
    assert serving_content(settings) == working_content(settings)
    assert {t.name: (t.rows, t.checksum) for t in second.tables} == working_content(settings)
    assert serving_values(
        settings,
        "select coalesce(strftime(invoice_date, '%Y-%m'), 'undated'), count(*) from gold.fct_invoices "
        "group by 1 order by 1",
    ) == [
        ("2011-01", 15),
        ("2011-02", 15),
        ("2011-03", 15),
        ("2011-04", 15),
        ("2011-05", 15),
        ("2011-07", 1),
        ("undated", 1),
    ]
    assert serving_values(settings, "select sum(score) from gold.rfm_segments") == [(300,)]
    assert serving_values(settings, "select run_id, table_count from gold.publication") == [("run-2", 4)]
    assert header_version(second.duckdb_path) == V1_5_HEADER_VERSION  # a patched copy keeps the old format
    with duckdb.connect(
        str(first.directory / "cltv.duckdb"), read_only=True
    ) as con:  # the old one is untouched
        assert con.execute("select count(*), sum(revenue) from gold.fct_invoices").fetchone() == (
            90,
            sum(i * 1.5 for i in range(90)),
        )

    with connect(settings) as con:  # gold as it was published: nothing to write but the record
        con.execute("drop table gold.report_new")
    publish(settings, run_id="run-3", as_of=AS_OF)
    assert read_manifest(settings)["serving_file"]["tables"] == {
        "customer_predictions": "keep",
        "fct_invoices": "keep",
        "rfm_segments": "keep",
    }
    assert serving_content(settings) == working_content(settings)


def test_a_publication_of_an_older_cltv_is_the_base_of_the_next_one(settings: Settings):
    """Manifests from before tables were published by parts list fct_invoices' parts as `months`."""
    write_gold(settings, "run-1")
    with connect(settings) as con:
        con.execute("drop table gold.customer_predictions")  # partitioned by day only since then
    first = publish(settings, run_id="run-1", as_of=AS_OF)
    manifest_path = first.directory / "manifest.json"
    older = json.loads(manifest_path.read_text())
    del older["serving_file"]
    for table in older["tables"]:
        del table["partitioned_by"]
        table["months"] = table.pop("parts")
    manifest_path.chmod(0o644)
    manifest_path.write_text(json.dumps(older))

    second = publish(settings, run_id="run-2", as_of=AS_OF)

    assert read_manifest(settings)["serving_file"]["tables"] == {
        "fct_invoices": "keep",
        "rfm_segments": "keep",
    }
    assert all(after.st_ino == month_files(first)[name].st_ino for name, after in month_files(second).items())
    assert serving_content(settings) == working_content(settings)


def write_report_big(settings: Settings, rows: int) -> None:
    """A gold table of incompressible text, to fill the serving file's blocks."""
    with connect(settings) as con:
        con.execute(
            "create or replace table gold.report_big as select md5(range::varchar) as digest from range(?)",
            [rows],
        )


def test_a_serving_file_left_mostly_free_by_patches_is_written_anew(settings: Settings):
    write_gold(settings, "run-1")
    write_report_big(settings, 300_000)
    first = publish(settings, run_id="run-1", as_of=AS_OF)
    write_report_big(settings, 10)  # its blocks in the middle of the copied file are freed
    publish(settings, run_id="run-2", as_of=AS_OF)
    patched = read_manifest(settings)["serving_file"]
    assert patched["copied_from"] == first.publication_id
    assert patched["tables"]["report_big"] == "create"
    assert patched["free_block_share"] > 0.25

    third = publish(settings, run_id="run-3", as_of=AS_OF)
    fresh = read_manifest(settings)["serving_file"]
    assert (fresh["copied_from"], fresh["free_block_share"]) == (None, 0.0)
    assert (third.directory / "cltv.duckdb").stat().st_size < (
        first.directory / "cltv.duckdb"
    ).stat().st_size / 2
    assert serving_content(settings) == working_content(settings)


def test_the_next_publish_starts_from_the_copy_staged_beside_the_ml_stage(settings: Settings):
    first = publish_then_change_february(settings)
    with staging_serving_copy(settings):
        pass  # the ML stage
    staged = settings.serving_dir / "staging" / f"{first.publication_id}.duckdb"
    assert staged.read_bytes() == (first.directory / "cltv.duckdb").read_bytes()
    staged_inode = staged.stat().st_ino

    second = publish(settings, run_id="run-2", as_of=AS_OF)

    assert (second.directory / "cltv.duckdb").stat().st_ino == staged_inode  # moved in, not copied again
    assert read_manifest(settings)["serving_file"]["copied_from"] == first.publication_id
    assert read_manifest(settings)["serving_file"]["tables"]["fct_invoices"] == "patch"
    assert serving_content(settings) == working_content(settings)
    assert not (settings.serving_dir / "staging").exists()


def test_a_copy_cut_short_or_of_an_older_publication_is_never_taken(settings: Settings):
    write_gold(settings, "run-1")
    first = publish(settings, run_id="run-1", as_of=AS_OF)
    staging = settings.serving_dir / "staging"
    staging.mkdir()
    (staging / "older-publication.duckdb").write_bytes(b"old")
    (staging / f"{first.publication_id}.duckdb.partial").write_bytes(b"cut short")
    assert stage_serving_copy(settings) == staging / f"{first.publication_id}.duckdb"
    assert sorted(path.name for path in staging.iterdir()) == [f"{first.publication_id}.duckdb"]

    (staging / f"{first.publication_id}.duckdb").write_bytes(b"not the whole file")
    with connect(settings) as con:
        con.execute("update gold.customer_predictions set predicted_clv = 0 where customer_id = 7")
    publish(settings, run_id="run-2", as_of=AS_OF)  # copies the serving file itself
    assert serving_content(settings) == working_content(settings)
    assert not staging.exists()


def test_republishing_the_same_run_publishes_the_same_content(settings: Settings):
    write_gold(settings, "run-1")
    first = publish(settings, run_id="run-1", as_of=AS_OF)
    first_rows = serving_values(settings, "select * from gold.customer_predictions order by customer_id")
    second = publish(settings, run_id="run-1", as_of=AS_OF)

    assert second.publication_id != first.publication_id
    assert content(second) == content(first)
    assert (
        serving_values(settings, "select * from gold.customer_predictions order by customer_id") == first_rows
    )
    assert read_manifest(settings)["run_id"] == "run-1"


def test_old_publications_are_kept_up_to_the_configured_count(settings: Settings):
    write_gold(settings, "run-0")
    ids = [publish(settings, run_id=f"run-{i}", as_of=AS_OF, keep=2).publication_id for i in range(4)]

    kept = sorted(path.name for path in (settings.serving_dir / "publications").iterdir())
    assert kept == ids[-2:]
    assert read_manifest(settings)["publication_id"] == ids[-1]


def test_retention_reads_cltv_serving_keep(settings: Settings):
    settings = Settings.from_env({**settings.to_env(), "CLTV_SERVING_KEEP": "1"})
    write_gold(settings, "run-0")
    for i in range(3):
        publish(settings, run_id=f"run-{i}", as_of=AS_OF)
    assert len(list((settings.serving_dir / "publications").iterdir())) == 1


def test_publishing_without_gold_fails_clearly_and_keeps_the_current_publication(settings: Settings):
    write_gold(settings, "run-1")
    publish(settings, run_id="run-1", as_of=AS_OF)
    with connect(settings) as con:
        con.execute("drop schema gold cascade")

    with pytest.raises(PublishError, match="no tables in schema 'gold'"):
        publish(settings, run_id="run-2", as_of=AS_OF)
    assert serving_values(settings, "select run_id from gold.publication") == [("run-1",)]
    assert len(list((settings.serving_dir / "publications").iterdir())) == 1


def test_reading_before_anything_is_published_fails_clearly(settings: Settings):
    with pytest.raises(FileNotFoundError, match="nothing published yet"), open_serving(settings):
        pass


HOLD_OPEN = textwrap.dedent(
    """
    import sys
    from cltv.publish import open_serving
    with open_serving() as con:
        query = "select run_id from gold.publication"
        print(con.execute(query).fetchone()[0], flush=True)
        sys.stdin.readline()  # the test publishes meanwhile
        print(con.execute(query).fetchone()[0], flush=True)
    with open_serving() as con:
        print(con.execute(query).fetchone()[0], flush=True)
    """
)


def test_a_reader_holding_the_file_open_keeps_the_old_run_and_does_not_block_publish(settings: Settings):
    """The rename replaces the path, not the inode the reader (and its DuckDB lock) holds."""
    write_gold(settings, "run-1")
    publish(settings, run_id="run-1", as_of=AS_OF)
    reader = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN],
        env={**os.environ, **settings.to_env()},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None
    assert reader.stdout is not None
    assert reader.stdout.readline().strip() == "run-1"

    write_gold(settings, "run-2")
    publish(settings, run_id="run-2", as_of=AS_OF)  # would raise "Could not set lock" if the lock mattered
    assert serving_values(settings, "select run_id from gold.publication") == [("run-2",)]

    reader.stdin.write("\n")
    reader.stdin.flush()
    assert [line.strip() for line in reader.stdout.readlines()] == ["run-1", "run-2"]
    assert reader.wait(timeout=30) == 0


READ_IN_A_LOOP = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from cltv.publish import open_serving
    stop, deadline = Path(sys.argv[1]), time.monotonic() + float(sys.argv[2])
    reads, errors = [], []
    while not stop.exists() and time.monotonic() < deadline:
        try:
            with open_serving() as con:
                seen = con.execute(
                    '''
                    select run_id from gold.publication
                    union all select distinct run_tag from gold.customer_predictions
                    union all select distinct run_tag from gold.rfm_segments
                    '''
                ).fetchall()
            reads.append([run for (run,) in seen])
        except Exception as error:
            errors.append(repr(error))
        if len(reads) + len(errors) == 1:
            print("reading", flush=True)
    print(json.dumps({"reads": reads, "errors": errors}), flush=True)
    """
)


def test_a_reader_in_a_loop_through_repeated_publishes_sees_whole_runs_and_no_error(
    settings: Settings, tmp_path: Path
):
    write_gold(settings, "run-0")
    publish(settings, run_id="run-0", as_of=AS_OF, keep=2)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READ_IN_A_LOOP, str(stop), "120"],
        env={**os.environ, **settings.to_env()},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None
    assert reader.stdout.readline().strip() == "reading"

    published = ["run-0"]
    for i in range(1, 7):
        write_gold(settings, f"run-{i}", customers=50 + i)
        publish(settings, run_id=f"run-{i}", as_of=AS_OF, keep=2)
        published.append(f"run-{i}")
        time.sleep(0.05)
    time.sleep(0.3)
    stop.touch()
    result = json.loads(reader.stdout.readline())
    assert reader.wait(timeout=30) == 0

    assert result["errors"] == []
    mixed = [seen for seen in result["reads"] if len(seen) != 3 or len(set(seen)) != 1]
    assert mixed == []
    runs_seen = {seen[0] for seen in result["reads"]}
    assert runs_seen <= set(published)
    assert {"run-0", "run-6"} <= runs_seen  # the reads spanned the publishes, first to last
