"""Settings read from the environment, with the documented defaults.

Every path may be given relative to the project root, so that `make`, Airflow tasks and tests started
from any working directory agree on where the warehouse and the landing folder are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SODA_CHECKS_DIR = PROJECT_ROOT / "soda_checks"

DEFAULTS: dict[str, str] = {
    "CLTV_WAREHOUSE": "warehouse/cltv.duckdb",
    "CLTV_LANDING_DIR": "data/landing",
    "CLTV_SERVING_DIR": "warehouse/serving",
    "CLTV_MODELS_DIR": "warehouse/models",
    "CLTV_SERVING_KEEP": "3",
    "CLTV_MAX_REJECT_SHARE": "0.01",
    "CLTV_DUCKDB_MEMORY_LIMIT": "8GB",
    "CLTV_DUCKDB_THREADS": "0",
    "CLTV_LOCK_TIMEOUT_SECONDS": "600",
}


def resolve_path(value: str | os.PathLike[str]) -> Path:
    """An absolute path; a relative one is taken from the project root, not the working directory."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Settings:
    """Where cltv reads and writes, and the limits it runs within."""

    warehouse: Path
    landing_dir: Path
    serving_dir: Path
    models_dir: Path
    max_reject_share: float
    duckdb_memory_limit: str
    duckdb_threads: int
    lock_timeout_seconds: float
    serving_keep: int = 3  # publications kept in the serving dir, the current one included

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name) or DEFAULTS[name]

        max_reject_share = float(get("CLTV_MAX_REJECT_SHARE"))
        if not 0.0 <= max_reject_share <= 1.0:
            raise ValueError(f"CLTV_MAX_REJECT_SHARE must be between 0 and 1, got {max_reject_share}")
        serving_keep = int(get("CLTV_SERVING_KEEP"))
        if serving_keep < 1:
            raise ValueError(f"CLTV_SERVING_KEEP must be at least 1, got {serving_keep}")
        return cls(
            warehouse=resolve_path(get("CLTV_WAREHOUSE")),
            landing_dir=resolve_path(get("CLTV_LANDING_DIR")),
            serving_dir=resolve_path(get("CLTV_SERVING_DIR")),
            models_dir=resolve_path(get("CLTV_MODELS_DIR")),
            max_reject_share=max_reject_share,
            duckdb_memory_limit=get("CLTV_DUCKDB_MEMORY_LIMIT"),
            duckdb_threads=int(get("CLTV_DUCKDB_THREADS")),
            lock_timeout_seconds=float(get("CLTV_LOCK_TIMEOUT_SECONDS")),
            serving_keep=serving_keep,
        )

    def to_env(self) -> dict[str, str]:
        """The environment variables that reproduce these settings in another process (Airflow, dbt)."""
        return {
            "CLTV_WAREHOUSE": str(self.warehouse),
            "CLTV_LANDING_DIR": str(self.landing_dir),
            "CLTV_SERVING_DIR": str(self.serving_dir),
            "CLTV_MODELS_DIR": str(self.models_dir),
            "CLTV_MAX_REJECT_SHARE": str(self.max_reject_share),
            "CLTV_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "CLTV_DUCKDB_THREADS": str(self.duckdb_threads),
            "CLTV_LOCK_TIMEOUT_SECONDS": str(self.lock_timeout_seconds),
            "CLTV_SERVING_KEEP": str(self.serving_keep),
        }
