"""Run the pipeline's stages in order for one as_of, as the DAG does, in a process a test can kill.

`python -m tests.resilience.driver --as-of 2024-03-31 --run-id r1` runs against the warehouse named by the
CLTV_* environment (`Settings.to_env()`). Before each stage it prints `STAGE <name>` and flushes, so a test
can wait for a stage to start and SIGKILL the process group in the middle of it. The stage functions are
the ones the DAG tasks call (`cltv.pipeline`), and dbt runs with the vars of the same run plan.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from cltv.config import Settings

STAGES = ("ingest", "dbt", "ml", "publish")  # the writing stages; quality gates only read and log
# A kill at an exact point no timing can hit: SIGKILL this process just before it renames anything onto
# this path (e.g. the serving dir's `parquet` link, between the swaps of publish).
KILL_BEFORE_RENAME_TO = "RESILIENCE_KILL_BEFORE_RENAME_TO"


def kill_before_rename_to(target: str) -> None:
    """An audit hook (os.rename and os.replace raise `os.rename`) that SIGKILLs the process group."""

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "os.rename" and os.fspath(args[1]) == target:
            print(f"KILLING before rename to {target}", flush=True)
            os.killpg(os.getpgrp(), signal.SIGKILL)

    sys.addaudithook(hook)


def dbt_run(settings: Settings, plan: dict[str, Any]) -> dict[str, Any]:
    """Every model in one `dbt run`, with the run parameters the DAG's Cosmos tasks get from the plan.

    The same model SQL as the DAG's task per model, in one invocation and without the data tests (they
    only read, and take three quarters of a build's time): resilience is about what the writes leave.
    """
    from cltv.dbt_runner import RUN_PARAMS, run_dbt

    params = {key: plan[key] for key in RUN_PARAMS}
    result = run_dbt(["run"], settings, run_params=params)
    return {"models": len(result.result.results)}


def stage_functions(settings: Settings, plan: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """The stages, each on the plan as the DAG gives it: completed by `plan_model` once ingest is done."""
    from cltv import pipeline

    def completed() -> dict[str, Any]:
        if "training_key" not in plan:
            plan.update(pipeline.plan_model(settings, plan))
        return plan

    return {
        "ingest": lambda: pipeline.run_ingest(settings, plan),
        "check_bronze": lambda: pipeline.run_quality_gate(settings, plan, "bronze"),
        "dbt": lambda: dbt_run(settings, completed()),
        "ml": lambda: pipeline.run_ml(settings, completed()),
        "publish": lambda: pipeline.run_publish(settings, completed()),
    }


def run(as_of: str, run_id: str, stages: list[str], n_training_cutoffs: int) -> None:
    from cltv.pipeline import make_plan

    if os.environ.get(KILL_BEFORE_RENAME_TO):
        kill_before_rename_to(os.environ[KILL_BEFORE_RENAME_TO])
    logging.basicConfig(level=logging.INFO)  # progress lines (a file loaded, a model fitted) mark kill points
    settings = Settings.from_env()
    plan = make_plan(
        run_id=run_id,
        run_date=date.fromisoformat(as_of),
        as_of=as_of,
        horizon_days=90,
        n_training_cutoffs=n_training_cutoffs,
        landing_dir=None,
        full_refresh=False,
    )
    functions = stage_functions(settings, plan)
    for stage in stages:
        print(f"STAGE {stage}", flush=True)
        started = time.monotonic()
        result = functions[stage]()
        print(f"DONE {stage} {time.monotonic() - started:.2f}s {json.dumps(result, default=str)}", flush=True)
    print("FINISHED", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated, in order")
    parser.add_argument("--n-training-cutoffs", type=int, default=2)
    args = parser.parse_args(argv)
    run(args.as_of, args.run_id, args.stages.split(","), args.n_training_cutoffs)


if __name__ == "__main__":
    sys.exit(main())
