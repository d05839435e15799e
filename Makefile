# cltv: make targets for every stage. `make help` lists them; `make run` and `make test` are all a new user needs.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CLTV := $(BIN)/python -m cltv
STAMP := $(VENV)/.installed-stamp

# Run parameters: make run LANDING=DIR AS_OF=YYYY-MM-DD HORIZON=DAYS
LANDING ?=
AS_OF ?=
HORIZON ?= 90
ROWS ?= 100000
# make bench ROWS=N: the benchmark's default is 10 million lines, not the sample's 100,000
BENCH_ROWS = $(if $(filter command line,$(origin ROWS)),$(ROWS),10000000)
SEED ?= 42
FORMAT ?= csv
PYTEST_ARGS ?=
DASHBOARD_PORT ?= 8501
DASHBOARD_ADDRESS ?= localhost

export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export DO_NOT_TRACK := 1
export SODA_CORE_TELEMETRY_ENABLED := false
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export AIRFLOW__CORE__LOAD_EXAMPLES := false

DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/tests -type f 2>/dev/null) \
               dbt_project/dbt_project.yml dbt_project/profiles.yml
MANIFEST := dbt_project/target/manifest.json

.PHONY: help setup sample run check test test-fast lint format dbt-build manifest airflow-init airflow bench bench-incremental dashboard screenshots clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# --compile-bytecode: uv does not compile by default, and where PYTHONDONTWRITEBYTECODE is set (this
# machine, the image) nothing is cached afterwards: every process would compile Airflow, dbt and pandas again
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -e ".[dev]"
	touch $@

setup: $(STAMP) ## create .venv and install cltv with pinned dependencies

$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	$(CLTV) manifest

manifest: $(MANIFEST) ## parse the dbt project (Cosmos renders the DAG from its manifest)

airflow-init: $(STAMP) ## create the local Airflow metadata DB (SQLite) and the warehouse pool
	$(CLTV) airflow-init

airflow: $(MANIFEST) ## a local Airflow (api-server, scheduler, dag-processor) on loopback: make airflow [PORT=8080]
	$(BIN)/python -m cltv.local_airflow $(if $(PORT),--port $(PORT))

sample: $(STAMP) ## generate sample invoice files: make sample ROWS=N LANDING=DIR FORMAT=csv|parquet
	$(CLTV) sample --rows $(ROWS) --seed $(SEED) --format $(FORMAT) --out $(or $(LANDING),data/landing)

run: $(STAMP) ## run the whole pipeline once: make run [LANDING=DIR] [AS_OF=YYYY-MM-DD] [HORIZON=DAYS] [FULL_REFRESH=1]
	$(CLTV) run $(if $(LANDING),--landing $(LANDING)) $(if $(AS_OF),--as-of $(AS_OF)) --horizon $(HORIZON) $(if $(FULL_REFRESH),--full-refresh)

check: $(STAMP) ## verify every Soda contract on the current warehouse: make check [AS_OF=YYYY-MM-DD]
	$(BIN)/python -m cltv.quality --layer all $(if $(AS_OF),--as-of $(AS_OF))

bench: $(MANIFEST) ## end-to-end benchmark, JSON report in bench/results/: make bench [ROWS=N] (default 10,000,000)
	$(BIN)/python -m bench.run --rows $(BENCH_ROWS)

bench-incremental: $(MANIFEST) ## add one month to the bench warehouse and time the refresh: make bench-incremental [ROWS=N]
	$(BIN)/python -m bench.run --rows $(BENCH_ROWS) --incremental

dashboard: $(STAMP) ## the marketers' dashboard on http://localhost:8501 (reads warehouse/serving/cltv.duckdb)
	$(BIN)/streamlit run dashboard/app.py --server.headless true --server.port $(DASHBOARD_PORT) \
	  --server.address $(DASHBOARD_ADDRESS) --browser.gatherUsageStats false --client.toolbarMode viewer

screenshots: $(STAMP) ## re-take docs/screenshots/*.png with the dashboard's browser test
	CLTV_UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/dashboard/test_browser.py

dbt-build: $(MANIFEST) ## dbt build on the current warehouse: make dbt-build AS_OF=YYYY-MM-DD
	$(CLTV) dbt-build --as-of $(AS_OF) --horizon $(HORIZON)

test: $(MANIFEST) ## run every test (real DuckDB, dbt, Airflow)
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(MANIFEST) ## the tests not marked slow
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## remove generated files (warehouse, landing sample, Airflow home, dbt target); keeps .venv
	rm -rf warehouse data .airflow dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
