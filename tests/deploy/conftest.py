"""Read the deployment files as Docker reads them, without a Docker engine: the compose file with its
`${VAR:-default}` interpolation from `.env`, the Dockerfile's instructions, and `.env.example`."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from cltv.config import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
DEPLOY_DIR = PROJECT_ROOT / "deploy"
IMAGE_ROOT = "/opt/cltv"  # where the Dockerfile puts the project (WORKDIR)

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}; `$$` is a literal dollar.
VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def deploy_module(name: str) -> ModuleType:
    """A script of deploy/ (not a package: the image runs it by path) imported for testing."""
    module_name = f"deploy_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, DEPLOY_DIR / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def env_file_values(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """KEY=VALUE lines of an env file, as docker compose reads `.env` (comments and blanks skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def commented_keys(path: Path = ENV_EXAMPLE) -> set[str]:
    """Keys shown as commented-out assignments (`# KEY=value`): documented, off by default."""
    return set(re.findall(r"^#\s*([A-Z][A-Z0-9_]*)=", path.read_text(), flags=re.MULTILINE))


def referenced_variables(text: str) -> set[str]:
    return {match.group(1) for match in VARIABLE.finditer(text) if match.group(1)}


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's interpolation of one value (recursively through lists and mappings)."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if name is None:
            return "$"
        current = env.get(name)
        unset_or_empty = current is None or (current == "" and operator and operator.startswith(":"))
        if operator in (":-", "-") and unset_or_empty:
            return argument
        if operator in (":?", "?") and unset_or_empty:
            raise ValueError(f"{name} is required: {argument}")
        return current or ""

    return VARIABLE.sub(substitute, value)


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file with YAML anchors merged and variables interpolated from `env` (.env.example)."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    return interpolate(raw, env_file_values() if env is None else env)


def service_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def volume_mounts(service: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) of each short-syntax volume of a service."""
    mounts = []
    for spec in service.get("volumes") or []:
        source, target, *options = spec.split(":")
        mounts.append((source, target, "ro" in options))
    return mounts


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending = f"{pending} {stripped}" if pending else stripped
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        keyword, _, arguments = pending.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="session")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]
