"""Soda data contracts that gate every layer: verify, record in gold.dq_results, stop the run on a failure.

One contract per dataset lives in `soda_checks/<layer>/` (see soda_checks/README.md). A layer is a gate of
the DAG: `bronze` after ingest, `silver` and `gold` after dbt, `ml` after the ML stage (before publish).

- Contracts run through Soda's Python API on a read-only connection, under cltv's writer lock so that no
  cltv writer changes the warehouse mid-verification; the results are written afterwards by the writer.
- Run parameters reach the contracts as Soda variables (`${var.NAME}`): the run's `as_of`, the first instant
  after it (`as_of_end`), the lines whose shares and prices a contract judges (`judged_loads`), and each
  dataset's row count at the previous run (`previous_row_count`), read from gold.dq_results.
- A gate costs what the new data costs: a dataset's shares and prices are judged on the loads that arrived
  since its contract last passed (every load on a first run, and in dbt's layers on a full refresh, which
  rebuilds them), so a bad file is neither diluted by years of history nor forgotten when its gate failed;
  older lines were judged, and passed, when they were new.
- A check that fails, or that cannot be evaluated, raises `DataQualityError` naming the dataset, the check
  and the measured value; warnings are recorded and logged, and the run goes on.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from cltv.config import SODA_CHECKS_DIR, Settings
from cltv.warehouse import connect, writer_lock

log = logging.getLogger("cltv.quality")

DATA_SOURCE_NAME = "cltv"
LAYERS = ("bronze", "silver", "gold", "ml")
# Contract files of each gate, relative to soda_checks/. Predictions are gold tables, but the ML stage
# writes them after dbt, so they are checked at their own gate.
LAYER_CONTRACTS: dict[str, tuple[str, ...]] = {
    "bronze": ("bronze/*.yml",),
    "silver": ("silver/*.yml",),
    "gold": ("gold/*.yml", "gold/reports/*.yml"),
    "ml": ("gold/ml/*.yml",),
}
# The row_count check every contract names so; its measured value is the next run's previous_row_count.
ROW_COUNT_CHECK = "row count"
# Layers that a dbt full refresh rebuilds from bronze: their lines are all new again, so all are judged.
REBUILT_BY_FULL_REFRESH = frozenset({"silver", "gold", "ml"})
# `judged_loads` when every load is judged: a predicate that keeps every row.
EVERY_LOAD = "true"
OUTCOMES = {"PASSED": "pass", "WARN": "warn", "FAILED": "fail", "NOT_EVALUATED": "error"}

DQ_RESULTS_DDL = """
create schema if not exists gold;
create table if not exists gold.dq_results (
    run_id varchar, as_of_date date, layer varchar, dataset varchar, check_name varchar, column_name varchar,
    outcome varchar, measured_value double, threshold varchar, diagnostics varchar, contract_file varchar,
    checked_at timestamp
);
"""


class DataQualityError(RuntimeError):
    """A contract failed (or could not be verified); the message names each dataset, check and value."""

    def __init__(self, message: str, report: QualityReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class DqResult:
    """One row of gold.dq_results: what a check measured and how it compares with its thresholds."""

    layer: str
    dataset: str
    check_name: str
    column_name: str | None
    outcome: str  # 'pass', 'warn', 'fail' or 'error'
    measured_value: float | None
    threshold: str
    diagnostics: str
    contract_file: str

    def describe(self) -> str:
        value = "n/a" if self.measured_value is None else f"{self.measured_value:g}"
        column = f" ({self.column_name})" if self.column_name else ""
        detail = f"; {self.diagnostics}" if self.outcome == "error" and self.diagnostics else ""
        return f"{self.dataset}: {self.check_name}{column} = {value}, expected {self.threshold}{detail}"


@dataclass(frozen=True)
class QualityReport:
    """Every check of one gate of one run."""

    run_id: str
    layer: str
    as_of: date
    results: tuple[DqResult, ...] = field(default_factory=tuple)

    def with_outcome(self, *outcomes: str) -> list[DqResult]:
        return [r for r in self.results if r.outcome in outcomes]

    @property
    def failures(self) -> list[DqResult]:
        return self.with_outcome("fail", "error")

    @property
    def warnings(self) -> list[DqResult]:
        return self.with_outcome("warn")

    @property
    def passed(self) -> bool:
        return not self.failures

    def table(self) -> str:
        """The results as a fixed-width text table, one check a line, for the task log."""
        header = ("outcome", "dataset", "check", "value", "expected")
        rows = [header] + [
            (
                r.outcome,
                r.dataset,
                r.check_name + (f" ({r.column_name})" if r.column_name else ""),
                "n/a" if r.measured_value is None else f"{r.measured_value:g}",
                r.threshold,
            )
            for r in self.results
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
        )

    def failure_message(self) -> str:
        lines = [f"data quality gate '{self.layer}' of run {self.run_id} (as_of {self.as_of}) failed:"]
        lines += [f"  {r.outcome.upper()} {r.describe()}" for r in self.failures]
        return "\n".join(lines)


# --- contracts and their variables --------------------------------------------------------------------


def contract_files(layer: str, checks_dir: Path = SODA_CHECKS_DIR) -> list[tuple[str, Path]]:
    """(layer, contract file) for a gate, or for every gate with `layer="all"`."""
    if layer != "all" and layer not in LAYER_CONTRACTS:
        raise ValueError(f"unknown layer {layer!r}: expected one of {', '.join(LAYERS)} or 'all'")
    layers = LAYERS if layer == "all" else (layer,)
    return [
        (name, path)
        for name in layers
        for pattern in LAYER_CONTRACTS[name]
        for path in sorted(checks_dir.glob(pattern))
    ]


def contract_dataset(path: Path) -> str:
    """`schema.table` of a contract, from its `dataset: cltv/<schema>/<table>` line."""
    qualified = yaml.safe_load(path.read_text())["dataset"]
    source, schema, table = qualified.split("/")
    if source != DATA_SOURCE_NAME:
        raise ValueError(f"{path}: dataset {qualified!r} is not in data source {DATA_SOURCE_NAME!r}")
    return f"{schema}.{table}"


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def previous_row_count(con: duckdb.DuckDBPyConnection, dataset: str, run_id: str, as_of: date) -> int:
    """The row count the latest other run with an as_of on or before this one recorded; 0 if none.

    Ordered by as_of first, so that re-running an old as_of compares with its own period, not a later one.
    """
    if not table_exists(con, "gold.dq_results"):
        return 0
    row = con.execute(
        "select measured_value from gold.dq_results where dataset = ? and check_name = ? and run_id <> ? "
        "and as_of_date <= ? and outcome <> 'error' and measured_value is not null "
        "order by as_of_date desc, checked_at desc limit 1",
        [dataset, ROW_COUNT_CHECK, run_id, as_of],
    ).fetchone()
    return int(row[0]) if row else 0


def latest_run_loads(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """The loads of this run or, when it loaded nothing, of the latest run that loaded lines.

    What a gate judges when nothing arrived since its contract last passed: the newest lines again, so that
    its shares and medians stay measured (an empty scope has no median) and unchanged.
    """
    row = con.execute(
        "select run_id from bronze.load_log where status = 'loaded' and rows_loaded > 0 "
        "order by run_id = ? desc, finished_at desc limit 1",
        [run_id],
    ).fetchone()
    if row is None:
        return []
    return [
        load_id
        for (load_id,) in con.execute(
            "select load_id from bronze.load_log where run_id = ? and status = 'loaded' order by load_id",
            [row[0]],
        ).fetchall()
    ]


def last_passed_at(con: duckdb.DuckDBPyConnection, dataset: str) -> datetime | None:
    """When the latest passing verification (warnings allowed) of a dataset's contract began; None if none.

    Every load that finished before it was in that verification's scope, so it was judged and passed.
    """
    if not table_exists(con, "gold.dq_results"):
        return None
    row = con.execute(
        "select max(checked_at) from ("
        "    select checked_at from gold.dq_results where dataset = ? group by run_id, checked_at"
        "    having count(*) filter (where outcome in ('fail', 'error')) = 0"
        ")",
        [dataset],
    ).fetchone()
    return row[0]


def loads_finished_after(con: duckdb.DuckDBPyConnection, since: datetime) -> list[str]:
    """Loads that finished after `since`: the ones a verification that began then has not judged."""
    return [
        load_id
        for (load_id,) in con.execute(
            "select load_id from bronze.load_log where status = 'loaded' and finished_at > ? "
            "order by load_id",
            [since],
        ).fetchall()
    ]


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def loads_filter(con: duckdb.DuckDBPyConnection, load_ids: Sequence[str]) -> str:
    """A predicate on `_load_id` and `_loaded_at` that keeps these loads' lines and lets DuckDB skip the rest.

    The load ids are literals and the lines' earliest `_loaded_at` a lower bound, so that the scan of bronze
    or silver skips the row groups of older loads by their min/max statistics (a `_load_id` list alone does
    not in silver, whose row groups mix many loads' random ids): ~0.05 s instead of ~0.5 s per check at 100M.
    """
    if not load_ids:
        return "false"
    id_list = f"_load_id in ({', '.join(sql_text(load_id) for load_id in load_ids)})"
    (first_loaded_at,) = con.execute(
        f"select min(_loaded_at) from bronze.raw_invoices where {id_list}"
    ).fetchone()
    if first_loaded_at is None:
        return id_list
    return f"_loaded_at >= TIMESTAMP '{first_loaded_at.isoformat(sep=' ')}' and {id_list}"


def judged_loads(
    con: duckdb.DuckDBPyConnection, dataset: str, *, run_id: str, every_load: bool = False
) -> str:
    """The predicate that selects the lines a dataset's contract judges (Soda variable `judged_loads`).

    The loads that finished since the contract last passed: on an incremental run the run's new loads, plus
    any load whose gate failed and was not withdrawn (it keeps failing instead of being forgotten when the
    next run brings new files). Every load when the contract never passed (a first run) or `every_load`
    (a full refresh of a dbt layer). When nothing arrived since, the latest run's loads (latest_run_loads).
    """
    if every_load or not table_exists(con, "bronze.load_log"):
        return EVERY_LOAD
    passed_at = last_passed_at(con, dataset)
    if passed_at is None:
        return EVERY_LOAD
    load_ids = loads_finished_after(con, passed_at) or latest_run_loads(con, run_id)
    return loads_filter(con, load_ids)


def uses_judged_loads(path: Path) -> bool:
    """Whether a contract reads `judged_loads` (its lookups cost a few queries, worth it only then)."""
    return "${var.judged_loads}" in path.read_text()


def contract_variables(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    layer: str,
    run_id: str,
    as_of: date,
    full_refresh: bool = False,
) -> dict[str, Any]:
    """The Soda variables of one contract. Numbers stay numbers: Soda thresholds reject strings."""
    dataset = contract_dataset(path)
    as_of_end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    variables: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "as_of_end": as_of_end.isoformat(),
        "run_id": run_id,
        "previous_row_count": previous_row_count(con, dataset, run_id, as_of),
    }
    if uses_judged_loads(path):
        every_load = full_refresh and layer in REBUILT_BY_FULL_REFRESH
        variables["judged_loads"] = judged_loads(con, dataset, run_id=run_id, every_load=every_load)
    return variables


# --- verification -------------------------------------------------------------------------------------


def soda_environment() -> None:
    """Soda's telemetry calls the network and stalls without it; it never runs here."""
    os.environ["SODA_CORE_TELEMETRY_ENABLED"] = "false"
    os.environ["DO_NOT_TRACK"] = "1"


def threshold_text(check: Any) -> str:
    """'<= 50 (warn <= 30)' from a Soda check's fail and warn thresholds."""

    def comparisons(threshold: Any) -> str:
        parts = [
            f"{symbol} {value:g}" if isinstance(value, int | float) else f"{symbol} {value}"
            for symbol, value in (
                (">", threshold.must_be_greater_than),
                (">=", threshold.must_be_greater_than_or_equal),
                ("<", threshold.must_be_less_than),
                ("<=", threshold.must_be_less_than_or_equal),
                ("=", threshold.must_be),
                ("!=", threshold.must_not_be),
            )
            if value is not None
        ]
        return " and ".join(parts)

    text = comparisons(check.threshold) if check.threshold else ""
    if check.warn_threshold:
        text += f" (warn unless {comparisons(check.warn_threshold)})"
    return text or "-"


def measured_value(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def results_of(verification: Any, layer: str, dataset: str, contract_file: str) -> list[DqResult]:
    """Rows for dq_results from one contract's Soda result; a contract that did not run is one 'error' row."""
    rows = []
    for contract_result in verification.contract_verification_results:
        for check_result in contract_result.check_results:
            outcome = OUTCOMES.get(check_result.outcome.name)
            if outcome is None:  # EXCLUDED: a check deselected on purpose, nothing to record
                continue
            rows.append(
                DqResult(
                    layer=layer,
                    dataset=dataset,
                    check_name=check_result.check.name or check_result.check.type,
                    column_name=check_result.check.column_name,
                    outcome=outcome,
                    measured_value=measured_value(check_result.threshold_value),
                    threshold=threshold_text(check_result.check),
                    diagnostics=check_result.log_table_row_diagnostics(verbose=False).replace("\n", "; "),
                    contract_file=contract_file,
                )
            )
    if verification.has_errors:
        rows.append(
            DqResult(
                layer=layer,
                dataset=dataset,
                check_name="contract verification",
                column_name=None,
                outcome="error",
                measured_value=None,
                threshold="no errors",
                diagnostics=" | ".join(verification.get_errors()) or "Soda reported errors",
                contract_file=contract_file,
            )
        )
    return rows


def verify_contract(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    layer: str,
    *,
    run_id: str,
    as_of: date,
    full_refresh: bool = False,
) -> list[DqResult]:
    """Verify one contract on an open connection and return its rows for dq_results."""
    from soda_core.contracts import verify_contract_locally
    from soda_duckdb.common.data_sources.duckdb_data_source import DuckDBDataSourceImpl

    dataset = contract_dataset(path)
    contract_file = (
        str(path.relative_to(SODA_CHECKS_DIR)) if path.is_relative_to(SODA_CHECKS_DIR) else str(path)
    )
    if not table_exists(con, dataset):
        return [
            DqResult(
                layer, dataset, "dataset exists", None, "error", None, "table present", "", contract_file
            )
        ]
    data_source = DuckDBDataSourceImpl.from_existing_cursor(con, name=DATA_SOURCE_NAME)
    verification = verify_contract_locally(
        data_sources=[data_source],
        contract_file_path=str(path),
        variables=contract_variables(
            con, path, layer=layer, run_id=run_id, as_of=as_of, full_refresh=full_refresh
        ),
    )
    return results_of(verification, layer, dataset, contract_file)


def verify_contracts(
    settings: Settings,
    contracts: Sequence[tuple[str, Path]],
    *,
    run_id: str,
    as_of: date,
    full_refresh: bool = False,
) -> tuple[list[DqResult], datetime]:
    """Verify contracts on one read-only connection, holding the writer lock so nothing writes meanwhile.

    Returns the results and when the verification began (after the lock): every load that finished before
    it was in its scope, which is what the next run's `judged_loads` relies on.
    """
    soda_environment()
    results: list[DqResult] = []
    with (
        writer_lock(settings.warehouse, settings.lock_timeout_seconds),
        connect(settings, read_only=True) as con,
    ):
        (began_at,) = con.execute("select now()::timestamp").fetchone()
        for layer, path in contracts:
            results += verify_contract(
                con, path, layer, run_id=run_id, as_of=as_of, full_refresh=full_refresh
            )
    return results, began_at


def write_results(
    settings: Settings,
    results: Iterable[DqResult],
    *,
    run_id: str,
    as_of: date,
    layers: Sequence[str],
    checked_at: datetime,
) -> None:
    """Replace this run's rows of these layers in gold.dq_results: re-running a gate does not append twice.

    `checked_at` is when the verification began, not when it was written: a load that finishes in between
    was not judged, and stays after the mark (judged_loads).
    """
    rows = [
        (
            run_id,
            as_of,
            r.layer,
            r.dataset,
            r.check_name,
            r.column_name,
            r.outcome,
            r.measured_value,
            r.threshold,
            r.diagnostics,
            r.contract_file,
            checked_at,
        )
        for r in results
    ]
    with connect(settings) as con:
        con.execute(DQ_RESULTS_DDL)
        con.execute("begin transaction")
        con.execute(
            f"delete from gold.dq_results where run_id = ? and layer in ({', '.join('?' * len(layers))})",
            [run_id, *layers],
        )
        if rows:
            con.executemany("insert into gold.dq_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("commit")


def run_contracts(
    settings: Settings, *, layer: str, run_id: str, as_of: date, full_refresh: bool = False
) -> QualityReport:
    """Verify every contract of a gate (`bronze`, `silver`, `gold`, `ml` or `all`) and record the results.

    `full_refresh`: dbt rebuilt its layers from bronze in this run, so their contracts judge every load.
    Raises `DataQualityError` when a check fails or cannot be evaluated; returns the report otherwise.
    """
    contracts = contract_files(layer)
    if not contracts:
        raise ValueError(f"no contracts for layer {layer!r} under {SODA_CHECKS_DIR}")
    results, began_at = verify_contracts(
        settings, contracts, run_id=run_id, as_of=as_of, full_refresh=full_refresh
    )
    layers = sorted({name for name, _ in contracts})
    write_results(settings, results, run_id=run_id, as_of=as_of, layers=layers, checked_at=began_at)
    report = QualityReport(run_id=run_id, layer=layer, as_of=as_of, results=tuple(results))
    log.info("data quality gate '%s', run %s, as_of %s:\n%s", layer, run_id, as_of, report.table())
    for warning in report.warnings:
        log.warning("WARN %s", warning.describe())
    if not report.passed:
        raise DataQualityError(report.failure_message(), report)
    return report


# --- command line ---------------------------------------------------------------------------------------


def latest_checked_as_of(settings: Settings) -> date | None:
    """The as_of of the latest pipeline run recorded in gold.dq_results (what `make check` re-verifies)."""
    if not settings.warehouse.exists():
        return None
    with connect(settings, read_only=True) as con:
        if not table_exists(con, "gold.dq_results"):
            return None
        row = con.execute(
            "select as_of_date from gold.dq_results where run_id not like 'manual__%' "
            "order by checked_at desc limit 1"
        ).fetchone()
    return row[0] if row else None


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m cltv.quality", description=__doc__.splitlines()[0])
    cli.add_argument("--layer", default="all", choices=[*LAYERS, "all"], help="gate to verify (default all)")
    cli.add_argument(
        "--as-of", type=date.fromisoformat, help="business date, YYYY-MM-DD (default: the latest run's)"
    )
    cli.add_argument("--run-id", help="run id recorded in gold.dq_results (default manual__<as_of>)")
    return cli


def main(argv: list[str] | None = None) -> int:
    """`make check`: verify the contracts on the current warehouse; exit 1 when a check fails."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")  # the table goes to stdout
    args = parser().parse_args(argv)
    settings = Settings.from_env()
    as_of = args.as_of or latest_checked_as_of(settings)
    if as_of is None:
        print(
            f"no run has been checked in {settings.warehouse} yet: give --as-of YYYY-MM-DD", file=sys.stderr
        )
        return 2
    run_id = args.run_id or f"manual__{as_of.isoformat()}"
    try:
        report = run_contracts(settings, layer=args.layer, run_id=run_id, as_of=as_of)
    except DataQualityError as error:
        print(error.report.table())
        print(error, file=sys.stderr)
        return 1
    print(report.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
