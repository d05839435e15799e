"""`python -m cltv` (or `cltv`): the commands behind the Makefile.

cltv run [--landing DIR] [--as-of DATE] [--horizon DAYS]   the whole DAG on a local Airflow
cltv sample [--rows N] [--out DIR] ...                      generate invoice files
cltv dbt-build [--as-of DATE] [--full-refresh]              dbt alone on the current warehouse
cltv manifest                                               dbt parse (Cosmos renders from it)
cltv airflow-init                                           Airflow metadata DB and the writer pool
cltv summary                                                what the warehouse holds now
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from cltv.airflow_env import WAREHOUSE_POOL, airflow_environment, airflow_home
from cltv.config import DBT_PROJECT_DIR, Settings, resolve_path

VENV_BIN = Path(sys.executable).parent


def airflow(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the `airflow` CLI of this environment with cltv's Airflow settings."""
    return subprocess.run(
        [str(VENV_BIN / "airflow"), *args], env=airflow_environment(), check=check, text=True
    )


def airflow_init() -> None:
    """Create (or migrate) the SQLite metadata DB and the one-slot writer pool; cheap when done already."""
    home = airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    marker = home / ".cltv-initialised"
    if marker.exists():
        return
    airflow("db", "migrate")
    airflow("pools", "set", WAREHOUSE_POOL, "1", "One writer of the DuckDB warehouse at a time")
    marker.write_text("ok\n")


def write_manifest() -> Path:
    """`dbt parse`: Cosmos renders the dbt task group from the manifest, without calling dbt at parse time."""
    from cltv.dbt_runner import run_dbt

    run_dbt(["parse"], Settings.from_env())
    return DBT_PROJECT_DIR / "target" / "manifest.json"


def has_files(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() and not p.name.startswith(".") for p in folder.rglob("*"))


def command_sample(args: argparse.Namespace) -> int:
    from cltv.sample import main as sample_main

    return sample_main(args.rest)


def command_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    landing = resolve_path(args.landing) if args.landing else settings.landing_dir
    as_of = date.fromisoformat(args.as_of) if args.as_of else None
    if not has_files(landing):
        from cltv.sample import SampleSpec, generate_sample

        print(f"{landing} is empty: generating the built-in sample there")
        report = generate_sample(SampleSpec(), landing, progress=print)
        as_of = as_of or report.end
    logical_date = (as_of + timedelta(days=1)) if as_of else date.today()
    conf = {"as_of": as_of.isoformat() if as_of else None, "horizon_days": args.horizon}
    conf |= {"landing_dir": str(landing), "full_refresh": args.full_refresh}
    airflow_init()
    write_manifest()
    started = time.monotonic()
    result = airflow("dags", "test", "cltv_pipeline", logical_date.isoformat(), "--conf", json.dumps(conf))
    print_summary(settings, seconds=time.monotonic() - started)
    return result.returncode


def command_dbt_build(args: argparse.Namespace) -> int:
    from cltv.dbt_runner import run_dbt
    from ml.cutoffs import plan_cutoffs

    as_of = date.fromisoformat(args.as_of)
    cutoffs = [c.isoformat() for c in plan_cutoffs(as_of, args.horizon).all]
    params = {"as_of": as_of.isoformat(), "horizon_days": args.horizon, "feature_cutoffs": cutoffs}
    command = ["build", *(["--full-refresh"] if args.full_refresh else [])]
    run_dbt(command, Settings.from_env(), run_params=params)
    return 0


def command_manifest(_: argparse.Namespace) -> int:
    print(f"wrote {write_manifest()}")
    return 0


def command_airflow_init(_: argparse.Namespace) -> int:
    airflow_init()
    return 0


def command_summary(_: argparse.Namespace) -> int:
    print_summary(Settings.from_env())
    return 0


def print_summary(settings: Settings, seconds: float | None = None) -> None:
    from cltv.summary import warehouse_summary

    print(warehouse_summary(settings, seconds=seconds))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="cltv", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = root.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the whole pipeline once on a local Airflow (dags test)")
    run.add_argument("--landing", help="folder of invoice files (default CLTV_LANDING_DIR)")
    run.add_argument("--as-of", help="business date the run closes, YYYY-MM-DD (default: the sample's end)")
    run.add_argument("--horizon", type=int, default=90, help="prediction horizon in days (default 90)")
    run.add_argument("--full-refresh", action="store_true", help="rebuild incremental models")
    run.set_defaults(handler=command_run)

    sample = commands.add_parser("sample", help="generate sample invoice files (see `cltv sample -h`)")
    sample.add_argument("rest", nargs=argparse.REMAINDER)
    sample.set_defaults(handler=command_sample)

    dbt_build = commands.add_parser("dbt-build", help="dbt build on the current warehouse")
    dbt_build.add_argument("--as-of", required=True)
    dbt_build.add_argument("--horizon", type=int, default=90)
    dbt_build.add_argument("--full-refresh", action="store_true")
    dbt_build.set_defaults(handler=command_dbt_build)

    commands.add_parser("manifest", help="dbt parse").set_defaults(handler=command_manifest)
    commands.add_parser("airflow-init", help="Airflow metadata DB and pool").set_defaults(
        handler=command_airflow_init
    )
    commands.add_parser("summary", help="what the warehouse holds").set_defaults(handler=command_summary)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
