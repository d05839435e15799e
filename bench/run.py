"""Benchmark the whole cltv pipeline DAG end to end, the way `python -m cltv run` runs it.

    python -m bench.run --rows N                 generate N lines, run the DAG on a fresh bench warehouse
    python -m bench.run --rows N --incremental   add the next month to that warehouse, time the refresh

Everything the benchmark writes lives in a private work folder, `<work-dir>/rows-N/` (default
`bench/work/`, git-ignored): landing files, warehouse, Airflow home, the `airflow dags test` log. Results go
to `bench/results/<UTC timestamp>-<rows>.json` and `latest.json` (an incremental run:
`<timestamp>-incremental-<rows>.json` and `latest-incremental.json`).

What is measured, and how:

- `total_seconds`: wall time of the `airflow dags test` process alone. Data generation, Airflow's
  metadata migration and `dbt parse` happen before the clock starts, as in `cltv run`.
- `peak_rss_bytes`: `airflow dags test` runs every task inside its own process (`run_task_in_process`)
  and Cosmos runs dbt in-process (`InvocationMode.DBT_RUNNER`), so the pipeline's memory is the memory of
  that one process. The kernel's high-water mark for it (`ru_maxrss` from `wait4`, which also covers any
  descendant it waited for) is exact, where sampling would miss short peaks. A psutil sample of the whole
  process tree's summed RSS every 0.2 s is kept beside it (`run.sampled_tree_peak_rss_bytes`): a task
  that starts concurrent subprocesses would show there first.
- `stages`: task instance start and end times from the run's Airflow metadata DB, grouped by task id
  prefix, so a task added to the DAG later lands in its stage without changing this file.
- `tables`: row counts of every bronze, silver and gold relation, read-only, after the run.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cltv.__main__ import VENV_BIN, airflow_init, write_manifest
from cltv.airflow_env import airflow_environment
from cltv.config import PROJECT_ROOT, Settings
from cltv.sample import COLUMNS, FIRST_INVOICE_NO, SCHEMA, SampleSpec, generate_sample
from cltv.warehouse import connect

DAG_ID = "cltv_pipeline"
BENCH_DIR = PROJECT_ROOT / "bench"
DEFAULT_WORK_DIR = BENCH_DIR / "work"
DEFAULT_RESULTS_DIR = BENCH_DIR / "results"
RSS_SAMPLE_SECONDS = 0.2
LAYERS = ("bronze", "silver", "gold")
PACKAGES = (
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
    "apache-airflow",
    "astronomer-cosmos",
    "soda-core",
    "xgboost",
    "pyarrow",
)
# Stage of a task: any Cosmos dbt operator is a dbt model (its task group is named after the layer);
# otherwise the first word of its task id (the group before a dot, or the word before `_`).
DBT_STAGE = "dbt_models"
DBT_OPERATOR_PREFIX = "Dbt"
STAGE_PREFIXES: dict[str, tuple[str, ...]] = {
    "plan": ("plan",),
    "ingest": ("ingest", "load"),
    "quality_gates": ("quality", "dq", "soda", "contract", "contracts", "gate", "check", "checks"),
    DBT_STAGE: ("dbt",),
    "ml": ("ml", "train", "score", "predict"),
    "publish": ("publish", "serve", "serving", "export"),
}
OTHER_STAGE = "other"
INCREMENTAL_SEED_OFFSET = 1_000
# Airflow settings that `cltv.airflow_env` derives from AIRFLOW_HOME unless they are set already.
AIRFLOW_HOME_DERIVED = ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__LOGGING__BASE_LOG_FOLDER")
# Lines of the `airflow dags test` log: where each task starts and ends, and dbt's per-node result lines
# ("3 of 14 PASS not_null_fct_invoices_customer_id ..... [PASS in 0.12s]").
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")
TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")
DBT_NODE = re.compile(r"\d+ of \d+ (OK created|PASS|WARN|FAIL|ERROR) .*\[\w+ in ([\d.]+)s\]")


@dataclass(frozen=True)
class BenchPaths:
    """The private folders of one benchmark size."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def settings(self) -> Settings:
        """Settings of the bench warehouse; memory and thread limits still come from the environment."""
        warehouse = self.root / "warehouse"
        return Settings.from_env(
            {
                **os.environ,
                "CLTV_WAREHOUSE": str(warehouse / "cltv.duckdb"),
                "CLTV_LANDING_DIR": str(self.landing),
                "CLTV_SERVING_DIR": str(warehouse / "serving"),
                "CLTV_MODELS_DIR": str(warehouse / "models"),
            }
        )


@dataclass(frozen=True)
class ProcessMeasure:
    returncode: int
    seconds: float
    peak_rss_bytes: int
    sampled_tree_peak_rss_bytes: int


@dataclass(frozen=True)
class TaskTiming:
    task_id: str
    stage: str
    state: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


class TreeRssSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants until stopped."""

    def __init__(self, pid: int, interval: float = RSS_SAMPLE_SECONDS) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stopped.is_set():
            self.peak = max(self.peak, tree_rss(root))
            self._stopped.wait(self.interval)

    def stop(self) -> int:
        self._stopped.set()
        self.join()
        return self.peak


def tree_rss(root: psutil.Process) -> int:
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def run_measured(command: list[str], env: dict[str, str], log_path: Path) -> ProcessMeasure:
    """Run `command` with its output in `log_path`; wall time and peak memory of its process tree."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = TreeRssSampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        sampled_peak = sampler.stop()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: tell Popen not to wait
    return ProcessMeasure(
        returncode=process.returncode,
        seconds=seconds,
        peak_rss_bytes=usage.ru_maxrss * 1024,  # Linux reports kilobytes
        sampled_tree_peak_rss_bytes=sampled_peak,
    )


def dags_test_command(logical_date: date, conf: dict[str, Any]) -> list[str]:
    """The command `cltv run` runs: the whole DAG once, every task in-process."""
    return [
        str(VENV_BIN / "airflow"),
        "dags",
        "test",
        DAG_ID,
        logical_date.isoformat(),
        "--conf",
        json.dumps(conf),
    ]


def stage_of(task_id: str, operator: str = "") -> str:
    """The stage a task belongs to: its operator for dbt, else the first word of its id (`check_gold`)."""
    if operator.startswith(DBT_OPERATOR_PREFIX):
        return DBT_STAGE
    head = task_id.split(".", 1)[0].lower()
    first_word = head.split("_", 1)[0]
    for stage, prefixes in STAGE_PREFIXES.items():
        if head in prefixes or first_word in prefixes:
            return stage
    return OTHER_STAGE


def parse_airflow_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_run(airflow_home: Path, logical_date: date) -> tuple[str, str, list[TaskTiming]]:
    """Run id, state and task timings of the DAG run of `logical_date`, from the SQLite metadata DB."""
    con = sqlite3.connect(f"file:{airflow_home / 'airflow.db'}?mode=ro", uri=True)
    try:
        run = con.execute(
            "select run_id, state from dag_run where dag_id = ? and date(logical_date) = ? "
            "order by id desc limit 1",
            (DAG_ID, logical_date.isoformat()),
        ).fetchone()
        if run is None:
            raise RuntimeError(f"no {DAG_ID} run with logical date {logical_date} in {airflow_home}")
        rows = con.execute(
            "select task_id, coalesce(operator, ''), state, start_date, end_date from task_instance "
            "where dag_id = ? and run_id = ? and start_date is not null and end_date is not null "
            "order by start_date",
            (DAG_ID, run[0]),
        ).fetchall()
    finally:
        con.close()
    timings = [
        TaskTiming(
            task_id,
            stage_of(task_id, operator),
            state or "",
            parse_airflow_time(start),
            parse_airflow_time(end),
        )
        for task_id, operator, state, start, end in rows
    ]
    return run[0], run[1], timings


def summarise_stages(timings: list[TaskTiming]) -> dict[str, dict[str, Any]]:
    """Per stage: seconds inside its tasks (they run one at a time), task count, first start to last end."""
    stages: dict[str, dict[str, Any]] = {}
    for stage in [*STAGE_PREFIXES, OTHER_STAGE]:
        members = [t for t in timings if t.stage == stage]
        if not members:
            continue
        slowest = max(members, key=lambda t: t.seconds)
        stages[stage] = {
            "seconds": round(sum(t.seconds for t in members), 3),
            "tasks": len(members),
            "span_seconds": round(
                (max(t.end for t in members) - min(t.start for t in members)).total_seconds(), 3
            ),
            "slowest_task": slowest.task_id,
            "slowest_task_seconds": round(slowest.seconds, 3),
        }
        groups = seconds_by_group(members)
        if groups:
            stages[stage]["groups"] = groups
    return stages


def seconds_by_group(timings: list[TaskTiming]) -> dict[str, float]:
    """Seconds per task group (the part of a task id before its first dot), e.g. dbt's silver and gold."""
    groups: dict[str, float] = {}
    for timing in timings:
        if "." in timing.task_id:
            group = timing.task_id.split(".", 1)[0]
            groups[group] = round(groups.get(group, 0.0) + timing.seconds, 3)
    return groups


def dbt_node_seconds(log_path: Path) -> dict[str, dict[str, float]]:
    """Per dbt task: seconds dbt itself reports for its model and for its tests, read from the run log.

    The rest of a dbt task's time is the cost of invoking dbt once per model (project copy, parse,
    adapter and connection set-up) plus Airflow's own per-task work.
    """
    nodes: dict[str, dict[str, float]] = {}
    task: str | None = None
    with log_path.open(errors="replace") as log:
        for raw in log:
            line = ANSI_CODE.sub("", raw)
            if started := TASK_START.search(line):
                task = started.group(1)
            elif TASK_END.search(line):
                task = None
            elif task is not None and (node := DBT_NODE.search(line)):
                figures = nodes.setdefault(task, {"model_seconds": 0.0, "tests": 0, "test_seconds": 0.0})
                if node.group(1) == "OK created":
                    figures["model_seconds"] += float(node.group(2))
                else:
                    figures["tests"] += 1
                    figures["test_seconds"] += float(node.group(2))
    return nodes


def add_dbt_breakdown(stages: dict[str, dict[str, Any]], timings: list[TaskTiming], log_path: Path) -> None:
    """Split the dbt stage into model SQL, tests, and per-invocation overhead (the remainder)."""
    if DBT_STAGE not in stages:
        return
    nodes = dbt_node_seconds(log_path)
    dbt_tasks = [t.task_id for t in timings if t.stage == DBT_STAGE]
    model = sum(nodes.get(task, {}).get("model_seconds", 0.0) for task in dbt_tasks)
    tests = sum(nodes.get(task, {}).get("test_seconds", 0.0) for task in dbt_tasks)
    stages[DBT_STAGE] |= {
        "model_sql_seconds": round(model, 3),
        "tests": int(sum(nodes.get(task, {}).get("tests", 0) for task in dbt_tasks)),
        "test_seconds": round(tests, 3),
        "overhead_seconds": round(stages[DBT_STAGE]["seconds"] - model - tests, 3),
    }


def table_counts(settings: Settings) -> dict[str, dict[str, int]]:
    """Rows of every relation in bronze, silver and gold, by layer (views are counted too)."""
    counts: dict[str, dict[str, int]] = {layer: {} for layer in LAYERS}
    with connect(settings, read_only=True) as con:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('bronze', 'silver', 'gold') order by table_schema, table_name"
        ).fetchall()
        for schema, name in relations:
            counts[schema][name] = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
    return counts


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def git_revision() -> dict[str, Any]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
        return result.stdout.strip()

    return {"git_commit": git("rev-parse", "HEAD") or None, "git_dirty": bool(git("status", "--porcelain"))}


def machine_facts(settings: Settings, load_before: tuple[float, ...]) -> dict[str, Any]:
    """What the numbers depend on; the load average shows how much the machine was shared."""
    return {
        "cpu_count": os.cpu_count(),
        "memory_bytes": psutil.virtual_memory().total,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: package_version(name) for name in PACKAGES},
        **git_revision(),
        "duckdb_memory_limit": settings.duckdb_memory_limit,
        "duckdb_threads": settings.duckdb_threads,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def keep_out_of_git(work_dir: Path) -> None:
    """Gigabytes of generated files and warehouses must never be committed, whatever .gitignore says."""
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / ".gitignore").write_text("*\n")


def use_bench_environment(paths: BenchPaths, settings: Settings) -> None:
    """Point this process (and so the Airflow subprocess and `dbt parse`) at the bench's folders."""
    os.environ.update(settings.to_env())
    os.environ["AIRFLOW_HOME"] = str(paths.airflow_home)
    for key in AIRFLOW_HOME_DERIVED:  # set for another Airflow home (e.g. by the tests): derive them again
        os.environ.pop(key, None)


def month_after(day: date) -> tuple[date, date]:
    """First and last day of the month after the one holding `day`."""
    start = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1]) + timedelta(days=1)
    return start, date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])


def max_invoice_number(settings: Settings) -> int:
    with connect(settings, read_only=True) as con:
        value = con.execute(
            "select max(try_cast(ltrim(invoice_no, 'C') as bigint)) from bronze.raw_invoices"
        ).fetchone()[0]
    return int(value or FIRST_INVOICE_NO - 1)


def shift_invoice_numbers(source: Path, target: Path, offset: int) -> int:
    """Copy a generated CSV with invoice numbers moved by `offset`, keeping the `C` of cancellations.

    The generator numbers invoices from the same first number in every sample; a later month must continue
    the warehouse's numbering, as a real shop's does.
    """
    table = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(column_types=SCHEMA))
    invoice_no = table.column("InvoiceNo")
    numbers = pc.add(pc.cast(pc.utf8_ltrim(invoice_no, "C"), pa.int64()), offset)
    prefix = pc.if_else(pc.starts_with(invoice_no, "C"), "C", "")
    shifted = pc.binary_join_element_wise(prefix, pc.cast(numbers, pa.string()), "")
    table = table.set_column(table.schema.get_field_index("InvoiceNo"), "InvoiceNo", shifted)
    with target.open("wb") as sink:
        sink.write((",".join(COLUMNS) + "\n").encode())  # the header as the generator writes it
        pacsv.write_csv(
            table, sink, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed")
        )
    return table.num_rows


def generate_next_month(paths: BenchPaths, state: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """One more month of lines after the warehouse's last, at the base sample's rate, with a new seed."""
    start, end = month_after(date.fromisoformat(state["end"]))
    months_added = state.get("months_added", 0) + 1
    seed = state["seed"] + INCREMENTAL_SEED_OFFSET + months_added
    days = (end - start).days + 1
    rows = max(1, round(state["rows"] * days / state["days"]))
    scratch = paths.root / "month-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    report = generate_sample(SampleSpec(rows=rows, seed=seed, start=start, end=end), scratch)
    offset = max_invoice_number(settings) + 1 - FIRST_INVOICE_NO
    written = 0
    for file in report.files:
        written += shift_invoice_numbers(file, paths.landing / f"month-{start:%Y-%m}-{file.name}", offset)
    shutil.rmtree(scratch)
    return {**state, "end": end.isoformat(), "months_added": months_added, "last_month_rows": written}


def prepare_full(paths: BenchPaths, rows: int, seed: int) -> tuple[dict[str, Any], float]:
    """A fresh work folder with `rows` generated lines over the sample's default two years."""
    shutil.rmtree(paths.root, ignore_errors=True)
    paths.root.mkdir(parents=True)
    started = time.monotonic()
    spec = SampleSpec(rows=rows, seed=seed)
    report = generate_sample(spec, paths.landing)
    seconds = time.monotonic() - started
    state = {
        "rows": report.rows,
        "seed": seed,
        "start": spec.start.isoformat(),
        "end": report.end.isoformat(),
        "days": (spec.end - spec.start).days + 1,
        "months_added": 0,
    }
    return state, seconds


def run_pipeline(paths: BenchPaths, as_of: date, label: str) -> tuple[ProcessMeasure, date, Path]:
    """Airflow metadata and manifest first (untimed, as in `cltv run`), then the timed DAG run."""
    airflow_init()
    write_manifest()
    logical_date = as_of + timedelta(days=1)
    conf = {"as_of": as_of.isoformat(), "horizon_days": 90, "landing_dir": str(paths.landing)}
    log_path = paths.logs / f"{label}-{as_of.isoformat()}.log"
    measure = run_measured(dags_test_command(logical_date, conf), airflow_environment(), log_path)
    return measure, logical_date, log_path


def benchmark(
    rows: int, *, incremental: bool, seed: int, work_dir: Path, results_dir: Path
) -> tuple[dict[str, Any], Path]:
    """Run one benchmark and write its JSON; returns the result and its path.

    A run that fails (or is stopped) is written too, as `<timestamp>-<rows>-<state>.json` with what did
    run, and `latest*.json` is left alone.
    """
    keep_out_of_git(work_dir)
    paths = BenchPaths(work_dir / f"rows-{rows}")
    settings = paths.settings()
    use_bench_environment(paths, settings)
    load_before = os.getloadavg()
    started_at = datetime.now(UTC)
    if incremental:
        if not paths.state_file.exists():
            raise SystemExit(
                f"no bench warehouse at {paths.root}: run `python -m bench.run --rows {rows}` first"
            )
        started = time.monotonic()
        state = generate_next_month(paths, json.loads(paths.state_file.read_text()), settings)
        generation_seconds, rows_run = time.monotonic() - started, state["last_month_rows"]
    else:
        state, generation_seconds = prepare_full(paths, rows, seed)
        rows_run = state["rows"]
    as_of = date.fromisoformat(state["end"])
    measure, logical_date, log_path = run_pipeline(paths, as_of, "incremental" if incremental else "full")
    run_id, run_state, timings = read_run(paths.airflow_home, logical_date)
    in_tasks = sum(t.seconds for t in timings)
    stages = summarise_stages(timings)
    add_dbt_breakdown(stages, timings, log_path)
    result = {
        "rows": rows_run,
        "total_seconds": round(measure.seconds, 3),
        "peak_rss_bytes": measure.peak_rss_bytes,
        "rows_per_second": round(rows_run / measure.seconds, 1),
        "mode": "incremental" if incremental else "full",
        "status": run_state,
        "stages": stages,
        "tables": table_counts(settings) if settings.warehouse.exists() else {},
        "machine": machine_facts(settings, load_before),
        "run": {
            "started_at": started_at.isoformat(timespec="seconds"),
            "run_id": run_id,
            "as_of": as_of.isoformat(),
            "logical_date": logical_date.isoformat(),
            "bench_rows": rows,
            "seed": seed,
            "generation_seconds": round(generation_seconds, 3),
            "seconds_in_tasks": round(in_tasks, 3),
            "seconds_outside_tasks": round(measure.seconds - in_tasks, 3),
            "sampled_tree_peak_rss_bytes": measure.sampled_tree_peak_rss_bytes,
            "peak_rss_method": "wait4 ru_maxrss of the `airflow dags test` process (tasks run in-process)",
            "returncode": measure.returncode,
            "warehouse": str(settings.warehouse),
            "log": str(log_path),
        },
        "tasks": task_rows(timings, dbt_node_seconds(log_path)),
    }
    if measure.returncode != 0 or run_state != "success":
        path = write_result(result, results_dir, started_at, incremental, rows, failed_state=run_state)
        tail = log_path.read_text(errors="replace").splitlines()[-40:]
        raise SystemExit(
            f"pipeline run {run_id} ended {run_state} (exit {measure.returncode}); partial result {path}; "
            f"log {log_path}:\n" + "\n".join(tail)
        )
    paths.state_file.write_text(json.dumps(state, indent=2) + "\n")
    return result, write_result(result, results_dir, started_at, incremental, rows)


def task_rows(timings: list[TaskTiming], nodes: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    rows = []
    for timing in timings:
        row = {**asdict(timing), "start": timing.start.isoformat(), "end": timing.end.isoformat()}
        rows.append(row | {"seconds": round(timing.seconds, 3)} | nodes.get(timing.task_id, {}))
    return rows


def write_result(
    result: dict[str, Any],
    results_dir: Path,
    started_at: datetime,
    incremental: bool,
    rows: int,
    failed_state: str | None = None,
) -> Path:
    """The timestamped JSON, and for a successful run `latest.json` (`latest-incremental.json`)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    kind = "incremental-" if incremental else ""
    failed = f"-{failed_state}" if failed_state else ""
    path = results_dir / f"{started_at:%Y%m%dT%H%M%SZ}-{kind}{rows}{failed}.json"
    text = json.dumps(result, indent=2) + "\n"
    path.write_text(text)
    if not failed_state:
        (results_dir / ("latest-incremental.json" if incremental else "latest.json")).write_text(text)
    return path


def gib(value: int) -> str:
    return f"{value / 2**30:.2f} GiB"


def format_report(result: dict[str, Any], path: Path) -> str:
    """The result as a table a person reads at a glance."""
    run, machine, total = result["run"], result["machine"], result["total_seconds"]
    lines = [
        f"cltv benchmark, {result['mode']} run: {result['rows']:,} rows, as_of {run['as_of']}",
        f"  total            {total:>10,.1f} s   {result['rows_per_second']:,.0f} rows/s",
        f"  peak RSS         {gib(result['peak_rss_bytes']):>12}   (tree sampled: "
        f"{gib(run['sampled_tree_peak_rss_bytes'])})",
        f"  load average     {machine['load_average_before']} -> {machine['load_average_after']}",
        "",
        f"  {'stage':<16}{'tasks':>6}{'seconds':>10}{'share':>7}   slowest task",
    ]
    for stage, figures in result["stages"].items():
        seconds = figures["seconds"]
        lines.append(
            f"  {stage:<16}{figures['tasks']:>6}{seconds:>10,.1f}{seconds / total:>7.0%}"
            f"   {figures['slowest_task']} ({figures['slowest_task_seconds']:,.1f} s)"
        )
    outside = run["seconds_outside_tasks"]
    lines.append(
        f"  {'outside tasks':<16}{'':>6}{outside:>10,.1f}{outside / total:>7.0%}   parse, serialise, start"
    )
    lines.append("")
    for layer, tables in result["tables"].items():
        lines.extend(f"  {layer}.{name:<40}{count:>14,}" for name, count in tables.items())
    lines.append(f"\n  written to {path}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="generated lines (default 10,000,000)")
    parser.add_argument(
        "--incremental", action="store_true", help="add the next month to the bench warehouse of --rows"
    )
    parser.add_argument("--seed", type=int, default=SampleSpec().seed)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result, path = benchmark(
        args.rows,
        incremental=args.incremental,
        seed=args.seed,
        work_dir=args.work_dir.resolve(),
        results_dir=args.results_dir.resolve(),
    )
    print(format_report(result, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
