"""`python -m cltv.local_airflow` (`make airflow`): a real Airflow scheduler stack on this machine.

`make run` executes the DAG once inside one process (`airflow dags test`); this starts what a deployment
runs — `airflow api-server`, `airflow scheduler` (LocalExecutor) and `airflow dag-processor` — as separate
processes on loopback, with the SQLite metadata DB of `cltv.airflow_env`. Schedules, backfills, retries,
the writer pool and the UI then behave as they do in production, without Docker or PostgreSQL.

Each component runs in its own process group and logs to `$AIRFLOW_HOME/local/<component>.log`; stopping
(Ctrl-C, SIGTERM, or leaving the `LocalAirflow` context) ends every group and every process they started,
so nothing outlives the stack. Tasks reach the api-server at `AIRFLOW__CORE__EXECUTION_API_SERVER_URL`,
which must name the port the api-server really listens on.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import psutil

from cltv.airflow_env import WAREHOUSE_POOL, airflow_environment, airflow_home

AIRFLOW = str(Path(sys.executable).parent / "airflow")
HOST = "127.0.0.1"
DEFAULT_PORT = 8080
COMPONENTS: dict[str, tuple[str, ...]] = {
    "api-server": ("api-server", "--host", HOST, "--port", "{port}", "--workers", "1"),
    # The api-server reads task logs from the shared log folder, so no log server is needed (or exposed).
    "scheduler": ("scheduler", "--skip-serve-logs"),
    "dag-processor": ("dag-processor",),
}
HEALTHY_COMPONENTS = ("metadatabase", "scheduler", "dag_processor")
STOP_GRACE_SECONDS = 20.0
ADMIN_USER = "admin"


class AirflowStackError(RuntimeError):
    """A component exited or did not become healthy; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def local_environment(port: int, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """cltv's Airflow environment, plus what ties separate components together on one machine."""
    base = airflow_environment(env)
    local = {
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
    }
    # A few task slots are plenty: writers queue on the one-slot pool anyway, and each slot is a process.
    base.setdefault("AIRFLOW__CORE__PARALLELISM", "4")
    return {**base, **local}


def run_airflow(args: list[str], env: Mapping[str, str], timeout: float = 300) -> str:
    """One `airflow` CLI call; its output, or an error that shows what it printed."""
    result = subprocess.run(
        [AIRFLOW, *args], env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise AirflowStackError(f"airflow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def initialise(env: Mapping[str, str]) -> None:
    """Migrate the metadata DB (this also writes airflow.cfg, with the secrets every component shares
    before any component starts) and create the writer pool; both are idempotent."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    run_airflow(["db", "migrate"], env)
    run_airflow(["pools", "set", WAREHOUSE_POOL, "1", "One writer of the DuckDB warehouse at a time"], env)


def ensure_manifest() -> None:
    """Cosmos renders the dbt task group from dbt's manifest: parse once if it is missing."""
    from cltv.config import DBT_PROJECT_DIR

    if not (DBT_PROJECT_DIR / "target" / "manifest.json").exists():
        from cltv.__main__ import write_manifest

        write_manifest()


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def health(port: int) -> dict[str, str]:
    """Each component's status as the api-server's public health endpoint reports it ({} if unreachable)."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/v2/monitor/health", timeout=5) as response:
            body = json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return {}
    return {name: str((body.get(name) or {}).get("status")) for name in HEALTHY_COMPONENTS}


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants alive now ([] if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def signal_everywhere(groups: list[int], members: list[psutil.Process], sig: signal.Signals) -> None:
    """Signal whole process groups, and each known member too (a child may have left its group)."""
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, sig)
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.send_signal(sig)


def stop_processes(
    processes: list[subprocess.Popen[bytes]],
    grace_seconds: float = STOP_GRACE_SECONDS,
) -> None:
    """SIGTERM every component at once so they shut down in parallel; SIGKILL what is left after the
    grace period; reap the components so none stays a zombie."""
    groups = [process.pid for process in processes]
    members = [member for process in processes for member in process_tree(process.pid)]
    signal_everywhere(groups, members, signal.SIGTERM)
    _, alive = psutil.wait_procs(members, timeout=grace_seconds)
    if alive:
        signal_everywhere(groups, alive, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)
    for process in processes:
        process.wait(timeout=5)


@dataclass
class LocalAirflow:
    """The api-server, scheduler and dag-processor of one Airflow home, started and stopped together."""

    port: int
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    pids: set[int] = field(default_factory=set)  # every process the stack was seen to run, for checks

    @classmethod
    def create(cls, port: int | None = None, env: Mapping[str, str] | None = None) -> LocalAirflow:
        port = port or free_port()
        return cls(port=port, env=local_environment(port, env))

    @property
    def home(self) -> Path:
        return Path(self.env["AIRFLOW_HOME"])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_dir(self) -> Path:
        return self.home / "local"

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self) -> None:
        if not port_is_free(self.port):
            raise AirflowStackError(f"port {self.port} is in use: pass --port or stop what listens there")
        initialise(self.env)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name, args in COMPONENTS.items():
            command = [AIRFLOW, *(arg.format(port=self.port) for arg in args)]
            with open(self.log_path(name), "ab") as log:
                self.processes[name] = subprocess.Popen(
                    command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            self.pids.add(self.processes[name].pid)

    def check_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AirflowStackError(
                    f"{name} exited with code {process.returncode}; its log ends with:\n"
                    f"{tail(self.log_path(name))}"
                )

    def remember_descendants(self) -> None:
        for process in self.processes.values():
            self.pids.update(member.pid for member in process_tree(process.pid))

    def wait_until_healthy(self, timeout_seconds: float = 240) -> None:
        """Until the api-server answers and reports the metadata DB, scheduler and dag-processor healthy."""
        deadline = time.monotonic() + timeout_seconds
        status: dict[str, str] = {}
        while time.monotonic() < deadline:
            self.check_running()
            status = health(self.port)
            if status and all(value == "healthy" for value in status.values()):
                self.remember_descendants()
                return
            time.sleep(2)
        logs = "\n".join(f"--- {name}\n{tail(self.log_path(name))}" for name in self.processes)
        reported = status or "no answer"
        raise AirflowStackError(f"not healthy after {timeout_seconds:.0f} s ({reported}):\n{logs}")

    def admin_password(self) -> str | None:
        """The password the simple auth manager generated for `admin` (None until the api-server wrote it)."""
        path = Path(
            self.env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
            or self.home / "simple_auth_manager_passwords.json.generated"
        )
        if not path.exists():
            return None
        return json.loads(path.read_text() or "{}").get(ADMIN_USER)

    def stop(self) -> None:
        self.remember_descendants()
        stop_processes(list(self.processes.values()))

    def __enter__(self) -> LocalAirflow:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def choose_port(requested: int | None) -> int:
    """The requested port; without one, 8080 when it is free, else any free port."""
    if requested:
        return requested
    return DEFAULT_PORT if port_is_free(DEFAULT_PORT) else free_port()


def print_banner(stack: LocalAirflow, out: IO[str]) -> None:
    password = stack.admin_password() or "(see the api-server log)"
    print(
        f"\nAirflow is up: {stack.url}\n"
        f"  login       {ADMIN_USER} / {password}\n"
        f"  home        {stack.home} (SQLite metadata, task logs)\n"
        f"  components  {', '.join(f'{name} pid {p.pid}' for name, p in stack.processes.items())}\n"
        f"  their logs  {stack.log_path('*')}\n"
        "  trigger     airflow dags unpause cltv_pipeline && "
        'airflow dags trigger cltv_pipeline --conf \'{"as_of": "YYYY-MM-DD"}\'\n'
        f"              (with AIRFLOW_HOME={stack.home})\n"
        "Ctrl-C stops everything.",
        file=out,
        flush=True,
    )


def interrupt(signum: int, frame: object) -> None:
    """SIGTERM (from a service manager or `kill`) stops the stack the way Ctrl-C does."""
    raise KeyboardInterrupt


def serve(stack: LocalAirflow) -> int:
    """Run until Ctrl-C or SIGTERM (exit 0) or until a component dies (exit 1); always stop them all."""
    signal.signal(signal.SIGTERM, interrupt)
    try:
        with stack:
            stack.wait_until_healthy()
            print_banner(stack, sys.stdout)
            while True:
                stack.check_running()
                time.sleep(2)
    except KeyboardInterrupt:
        print("\nstopping Airflow ...", flush=True)
        return 0
    except AirflowStackError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cltv.local_airflow", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--port", type=int, default=None, help="api-server port (default 8080 if free, else any free port)"
    )
    args = parser.parse_args(argv)
    ensure_manifest()
    stack = LocalAirflow.create(choose_port(args.port))
    print(f"starting Airflow in {airflow_home(stack.env)} on {stack.url} ...", flush=True)
    return serve(stack)


if __name__ == "__main__":
    sys.exit(main())
