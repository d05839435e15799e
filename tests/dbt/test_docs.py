"""The dbt project documents itself: `dbt docs generate` works on a built warehouse, every model, source and
column that the warehouse holds has a description, the exposures name the dashboard and the BI readers, and
`dbt source freshness` judges bronze by its latest load."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cltv.config import Settings
from cltv.dbt_runner import run_dbt
from tests.dbt.conftest import line, write_bronze

pytestmark = pytest.mark.slow

AS_OF = {"as_of": "2011-01-31"}
LINES = [
    line("536365", "17850.0", "2010-12-01 08:26:00"),
    line("536366", None, "2010-12-01 08:28:00"),
    line("C536367", "17850", "2011-01-05 10:00:00", quantity=-1),
    line("536368", "13047", "2011-01-10 09:00:00", stock_code="POST", unit_price=18.0),
]


def now_utc() -> datetime:
    """The wall clock as DuckDB's naive timestamps hold it (UTC), as `cltv.ingest` writes `_loaded_at`."""
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Every model built once on a few lines loaded just now."""
    root = tmp_path_factory.mktemp("docs")
    settings = Settings.from_env(
        {"CLTV_WAREHOUSE": str(root / "w.duckdb"), "CLTV_DUCKDB_MEMORY_LIMIT": "2GB"}
    )
    write_bronze(settings, LINES, loaded_at=now_utc())
    run_dbt(["run"], settings, AS_OF)
    return settings


@pytest.fixture(scope="module")
def documented(warehouse: Settings) -> dict[str, dict[str, Any]]:
    """Models, sources and exposures as the manifest has them, by unique id."""
    listed = run_dbt(
        [
            "ls",
            "--resource-type",
            "model",
            "source",
            "exposure",
            "--output",
            "json",
            "--output-keys",
            "unique_id resource_type description columns type depends_on",
        ],
        warehouse,
        AS_OF,
    )
    nodes = [json.loads(item) for item in listed.result]
    return {node["unique_id"]: node for node in nodes}


UNIT_TESTS = (
    "stg_bronze__invoice_lines_cleans_ids_and_flags_lines",
    "rfm_segment_history_scores_quintiles_and_ignores_later_lines",
    "rfm_segment_history_gives_ties_the_same_score",
    "rfm_segment_history_names_off_diagonal_cells",
)


def test_every_unit_test_passes(warehouse: Settings):
    """The DAG's dbt tasks leave unit tests out (fixed inputs: a production run would only repeat them), so
    they run here, every one of them."""
    tested = run_dbt(["test", "--select", "test_type:unit"], warehouse, AS_OF)

    units = [result for result in tested.result if result.node.resource_type == "unit_test"]
    assert sorted((result.node.name, str(result.status)) for result in units) == [
        (name, "pass") for name in sorted(UNIT_TESTS)
    ]


@pytest.fixture(scope="module")
def catalog(warehouse: Settings) -> dict[str, dict[str, list[str]]]:
    """The columns each built relation really has, from `dbt docs generate`'s catalog."""
    generated = run_dbt(["docs", "generate"], warehouse, AS_OF)
    return {
        kind: {unique_id: list(table.columns) for unique_id, table in getattr(generated.result, kind).items()}
        for kind in ("nodes", "sources")
    }


def test_docs_generate_catalogs_every_model_and_source(documented, catalog):
    models = {uid for uid, node in documented.items() if node["resource_type"] == "model"}
    sources = {uid for uid, node in documented.items() if node["resource_type"] == "source"}
    assert len(models) >= 20
    assert models == {uid for uid in catalog["nodes"] if uid.startswith("model.")}
    assert (
        sources
        == set(catalog["sources"])
        == {
            "source.cltv.bronze.raw_invoices",
            "source.cltv.bronze.load_log",
            "source.cltv.bronze.rejected_rows",
        }
    )


def test_every_model_source_and_column_has_a_description(documented, catalog):
    undocumented = []
    for kind in ("nodes", "sources"):
        for unique_id, columns in catalog[kind].items():
            node = documented[unique_id]
            if not node["description"].strip():
                undocumented.append(unique_id)
            described = {
                name.lower() for name, column in node["columns"].items() if column["description"].strip()
            }
            undocumented += [f"{unique_id}.{column}" for column in columns if column.lower() not in described]
    assert undocumented == []


def test_no_column_is_documented_that_the_table_does_not_have(documented, catalog):
    stale = [
        f"{unique_id}.{name}"
        for kind in ("nodes", "sources")
        for unique_id, columns in catalog[kind].items()
        for name in documented[unique_id]["columns"]
        if name.lower() not in {column.lower() for column in columns}
    ]
    assert stale == []


def test_exposures_name_the_dashboard_and_the_bi_readers(documented):
    exposures = {
        uid.split(".")[-1]: node for uid, node in documented.items() if node["resource_type"] == "exposure"
    }
    assert {name: node["type"] for name, node in exposures.items()} == {
        "cltv_dashboard": "dashboard",
        "bi_serving_file": "analysis",
    }
    for node in exposures.values():
        assert node["description"].strip()
        assert "model.cltv.rfm_segments" in node["depends_on"]["nodes"]
        assert "model.cltv.report_sales" in node["depends_on"]["nodes"]
    assert {"model.cltv.fct_invoices", "model.cltv.dim_customer"} <= set(
        exposures["bi_serving_file"]["depends_on"]["nodes"]
    )


def freshness(settings: Settings) -> dict[str, str]:
    result = run_dbt(["source", "freshness"], settings, AS_OF)
    # the results also hold the project's on-run-start hook
    sources = [item for item in result.result.results if item.node.resource_type == "source"]
    return {item.node.name: str(item.status) for item in sources}


def test_source_freshness_passes_after_a_load_and_warns_after_45_days_without_one(
    warehouse: Settings, settings: Settings
):
    # rejected_rows has no freshness: a month without a bad line is no sign of trouble
    assert freshness(warehouse) == {"raw_invoices": "pass", "load_log": "pass"}

    write_bronze(settings, LINES, loaded_at=now_utc() - timedelta(days=46))
    assert freshness(settings) == {"raw_invoices": "warn", "load_log": "warn"}
