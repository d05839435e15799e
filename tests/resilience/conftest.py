"""Sites (a landing folder and a warehouse), the stage driver as a killable process, and fingerprints.

Every run here is a real `python -m tests.resilience.driver` process on a real DuckDB warehouse: the only
way to test a SIGKILL is to send one. The sample is generated once per session; each site gets a copy.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from cltv.config import PROJECT_ROOT, Settings
from cltv.fingerprint import RUN_LOG_TABLES, TableFingerprint, differences, schema_fingerprint
from cltv.sample import SampleSpec, generate_sample
from cltv.warehouse import connect

AS_OF = "2024-06-30"
# 25k lines, 200 customers: enough labelled customers for the ML stage to train XGBoost (not only the
# baselines), in five files so that a kill during ingestion can land between two file transactions.
SAMPLE = SampleSpec(rows=25_000, seed=3, start=date(2023, 1, 1), end=date(2024, 6, 30), rows_per_file=5_000)
RUN_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Site:
    """One warehouse with its own landing, serving and models folders."""

    root: Path
    settings: Settings

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, **self.settings.to_env(), **extra}


def make_site(root: Path, landing: Path | None = None) -> Site:
    settings = Settings.from_env(
        {
            "CLTV_WAREHOUSE": str(root / "warehouse" / "cltv.duckdb"),
            "CLTV_LANDING_DIR": str(root / "landing"),
            "CLTV_SERVING_DIR": str(root / "warehouse" / "serving"),
            "CLTV_MODELS_DIR": str(root / "warehouse" / "models"),
            "CLTV_DUCKDB_MEMORY_LIMIT": "1GB",
        }
    )
    if landing is not None:
        shutil.copytree(landing, settings.landing_dir)
    return Site(root, settings)


def copy_site(site: Site, root: Path) -> Site:
    """A copy of a site's every file (warehouse, models, serving), as if a run had stopped there."""
    shutil.copytree(site.root, root, symlinks=True)
    return make_site(root)


def driver_command(as_of: str, run_id: str, stages: str | None) -> list[str]:
    command = [sys.executable, "-m", "tests.resilience.driver", "--as-of", as_of, "--run-id", run_id]
    return command + (["--stages", stages] if stages else [])


def run_driver(site: Site, run_id: str, *, as_of: str = AS_OF, stages: str | None = None, **env: str) -> str:
    """Run the stages to completion; fail the test with the driver's output if it does not finish."""
    result = subprocess.run(
        driver_command(as_of, run_id, stages),
        cwd=PROJECT_ROOT,
        env=site.env(**env),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    output = f"driver {run_id} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    assert result.returncode == 0, output
    assert "FINISHED" in result.stdout, output
    return result.stdout


def start_driver(
    site: Site, run_id: str, *, as_of: str = AS_OF, stages: str | None = None, **env: str
) -> subprocess.Popen[str]:
    """Start the driver in its own process group (dbt and XGBoost threads die with it on SIGKILL)."""
    return subprocess.Popen(
        driver_command(as_of, run_id, stages),
        cwd=PROJECT_ROOT,
        env=site.env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # log lines (stderr) mark progress inside a stage
        text=True,
        start_new_session=True,
    )


def kill_during(
    site: Site,
    run_id: str,
    stage: str,
    *,
    when: str | None = None,
    after_seconds: float = 0.0,
    stages: str | None = None,
    must_interrupt: bool = True,
) -> list[str]:
    """Start the driver and SIGKILL its process group inside `stage`; the lines it printed.

    The kill comes `after_seconds` after the first output line containing `when` (a log line of the
    stage's own progress, e.g. a file loaded or a dbt model created), or after `STAGE <stage>` without
    `when`. Asserts that the kill really landed inside the stage (started, not finished), so that a stage
    grown faster than the delay fails the test instead of passing it without an interruption; with
    `must_interrupt=False` the stage may also have finished (the caller counts the kills that landed).
    """
    process = start_driver(site, run_id, stages=stages)
    assert process.stdout is not None
    marker = when or f"STAGE {stage}"
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line.rstrip())
            if marker in line and f"STAGE {stage}" in lines:
                time.sleep(after_seconds)
                os.killpg(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    lines += process.stdout.read().splitlines()
    process.stdout.close()
    printed = "\n".join(lines[-60:])
    assert f"STAGE {stage}" in lines, f"stage {stage} never started:\n{printed}"
    assert any(marker in line for line in lines), f"never saw {marker!r}:\n{printed}"
    if not must_interrupt:
        return lines
    assert process.returncode == -signal.SIGKILL, f"driver exited {process.returncode}:\n{printed}"
    assert not any(line.startswith(f"DONE {stage}") for line in lines), (
        f"stage {stage} finished before the kill ({after_seconds} s after {marker!r}): shorten the delay"
    )
    return lines


Fingerprints = dict[str, TableFingerprint]


def fingerprints(site: Site, *, exclude_tables: frozenset[str] = frozenset()) -> Fingerprints:
    """Bronze and gold, row for row (see cltv.fingerprint for the columns left out)."""
    with connect(site.settings, read_only=True) as con:
        return {
            **schema_fingerprint(con, "bronze", exclude_tables=exclude_tables),
            **schema_fingerprint(con, "gold", exclude_tables=exclude_tables),
        }


def results_only(prints: Fingerprints) -> Fingerprints:
    """Without the tables that log attempts and runs (they differ by design between run histories)."""
    return {name: value for name, value in prints.items() if name not in RUN_LOG_TABLES}


def assert_same(actual: Fingerprints, expected: Fingerprints) -> None:
    diff = differences(actual, expected)
    assert not diff, "tables differ from the uninterrupted run:\n" + "\n".join(
        f"{name}: got {got}, expected {want}" for name, (got, want) in diff.items()
    )


def stage_line(output: str, stage: str) -> list[str]:
    """The driver's `DONE <stage> <seconds>s <json result>` line, split in its four parts."""
    (line,) = [line for line in output.splitlines() if line.startswith(f"DONE {stage} ")]
    return line.split(" ", 3)


def stage_seconds(output: str, stage: str) -> float:
    return float(stage_line(output, stage)[2].removesuffix("s"))


def scalar(site: Site, sql: str) -> object:
    with connect(site.settings, read_only=True) as con:
        return con.execute(sql).fetchone()[0]


@pytest.fixture(scope="session")
def sample_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("resilience-sample") / "landing"
    report = generate_sample(SAMPLE, landing)
    assert len(report.files) == 5
    return landing


@dataclass(frozen=True)
class Reference:
    """An uninterrupted run, stage by stage, with a copy of the site after each stage."""

    after: dict[str, Site]  # stage -> the site as that stage left it
    prints: Fingerprints  # of the finished run
    seconds: dict[str, float]  # each stage's own time, as the driver measured it

    @property
    def final(self) -> Site:
        return self.after["publish"]


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory, sample_landing: Path) -> Reference:
    """The uninterrupted run every interrupted one is compared with (run id `reference`)."""
    root = tmp_path_factory.mktemp("resilience-reference")
    site = make_site(root / "run", sample_landing)
    after: dict[str, Site] = {}
    seconds: dict[str, float] = {}
    for stage in ("ingest", "dbt", "ml", "publish"):
        output = run_driver(site, "reference", stages=stage)
        seconds[stage] = stage_seconds(output, stage)
        after[stage] = copy_site(site, root / f"after_{stage}")
    print(f"reference run, seconds per stage: {seconds}")
    return Reference(after, fingerprints(after["publish"]), seconds)


@pytest.fixture
def site_from(tmp_path: Path, reference: Reference) -> Callable[[str], Site]:
    """A private copy of the reference site as it stood after a stage ('' for the empty warehouse)."""

    def copy(stage: str) -> Site:
        if not stage:
            landing = reference.final.settings.landing_dir
            return make_site(tmp_path / "site", landing)
        return copy_site(reference.after[stage], tmp_path / "site")

    return copy
