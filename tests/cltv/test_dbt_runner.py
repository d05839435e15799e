"""dbt runs in-process against the configured warehouse and leaves no lock behind."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from cltv.config import Settings
from cltv.dbt_runner import DbtError, close_dbt_connections, dbt_args, run_dbt


def test_vars_reach_dbt_as_json(settings: Settings):
    args = dbt_args(["build"], {"as_of": "2011-12-09", "feature_cutoffs": ["2011-09-10"]}, settings)
    assert args[0] == "build"
    assert args[args.index("--vars") + 1] == '{"as_of": "2011-12-09", "feature_cutoffs": ["2011-09-10"]}'


def test_only_parse_writes_the_manifest_that_cosmos_reads(settings: Settings):
    """A build rewriting dbt_project/target/ would break a DAG parse that reads the manifest meanwhile."""
    build = dbt_args(["build"], None, settings)
    assert build[build.index("--target-path") + 1] == str(settings.warehouse.parent / "dbt_target")
    assert "--target-path" not in dbt_args(["parse"], None, settings)


@pytest.mark.slow
def test_dbt_writes_the_configured_warehouse_and_releases_it(settings: Settings):
    result = run_dbt(
        ["run-operation", "generate_schema_name", "--args", "{custom_schema_name: gold}"], settings
    )
    assert result.success
    assert (settings.warehouse.parent / "dbt_target" / "logs" / "dbt.log").exists()
    assert settings.warehouse.exists()  # dbt opened the warehouse this test names, not another file
    probe = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('create table ok as select 1').close()"
    subprocess.run([sys.executable, "-c", probe, str(settings.warehouse)], check=True)


@pytest.mark.slow
def test_dbt_leaves_no_connection_open_in_its_own_process(settings: Settings):
    """dbt-duckdb keeps the warehouse open across nodes (keep_open); a later reader in the same process
    opening it with other settings (read-only) would be refused if the invocation left it open."""
    run_dbt(["run-operation", "generate_schema_name", "--args", "{custom_schema_name: gold}"], settings)
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    assert DuckDBConnectionManager._ENV is None
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select 1").fetchone() == (1,)
    close_dbt_connections()  # nothing open: a no-op


@pytest.mark.slow
def test_a_failing_dbt_command_raises_with_the_reason(settings: Settings):
    with pytest.raises(DbtError, match="no_such_macro"):
        run_dbt(["run-operation", "no_such_macro"], settings)
