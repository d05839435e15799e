"""A trained model, cached by a key of everything its training depends on, so a run can reuse it.

With the quarterly cadence (ml.cutoffs) the two monthly runs after a quarter end serve the model trained
as of that quarter end. Training is deterministic (fixed seeds, exact feature sums, samples by a hash of
the customer id), so that model is a function of:

- the lines dated on or before its anchor: features at a cutoff read lines up to the cutoff, and labels
  end by the anchor. They are named by the sha256 of every loaded file holding such a line (a file whose
  lines are all later cannot change them; a late file with one older line does, and retrains);
- the cutoffs it trains and backtests on (anchor, horizon, how many of each);
- the code that shapes training data and fitting (cltv/, ml/, the dbt project's config, models and
  macros: any edit retrains) and the versions of the libraries that fit and compute;
- the ML stage's size limits.

`training_key` hashes those; `ModelCache` keeps, per key, the training outcome (`TrainingOutcome`: the
verdict, backtest metrics, training rows) next to the model version whose artifacts hold the boosters. The
key is computed after ingest and before dbt (`cltv.pipeline.plan_model`): on a hit dbt builds the scoring
cutoff only. A miss trains, stores the outcome, and serves from the stored outcome and artifacts exactly
as a hit does, so a hit and a miss write the same gold, and backfills in any order stay the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import duckdb

from cltv.config import DBT_PROJECT_DIR, PROJECT_ROOT
from cltv.ingest import file_sha256, files_with_lines_up_to
from ml.config import MlLimits
from ml.cutoffs import CutoffPlan

log = logging.getLogger(__name__)

# What shapes a model besides the data: the packages' sources and the dbt project's SQL and config.
CODE_PATHS: tuple[tuple[Path, str], ...] = (
    (PROJECT_ROOT / "cltv", "**/*.py"),
    (PROJECT_ROOT / "ml", "**/*.py"),
    (DBT_PROJECT_DIR, "dbt_project.yml"),
    (DBT_PROJECT_DIR / "models", "**/*"),
    (DBT_PROJECT_DIR / "macros", "**/*"),
)
LIBRARIES = ("xgboost", "scikit-learn", "lifetimes", "numpy", "pandas", "scipy", "duckdb", "dbt-duckdb")


@cache
def code_digest() -> str:
    """sha256 over the path and bytes of every file in CODE_PATHS, in path order."""
    digest = hashlib.sha256()
    for root, pattern in CODE_PATHS:
        for path in sorted(p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def library_versions() -> dict[str, str | None]:
    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {name: installed(name) for name in LIBRARIES}


def training_key(
    con: duckdb.DuckDBPyConnection, plan: CutoffPlan, horizon_days: int, limits: MlLimits
) -> str:
    """The key of the model `plan` trains (see the module docstring); reads bronze.load_log only."""
    payload = {
        "trained_as_of": plan.trained_as_of.isoformat(),
        "horizon_days": horizon_days,
        "training": [c.isoformat() for c in plan.training],
        "backtests": [[b.cutoff.isoformat(), [c.isoformat() for c in b.training]] for b in plan.backtests],
        "files": files_with_lines_up_to(con, plan.trained_as_of),
        "limits": asdict(limits),
        "code": code_digest(),
        "libraries": library_versions(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


Metrics = dict[str, dict[str, float]]


@dataclass(frozen=True)
class TrainingOutcome:
    """What training as of an anchor produced: everything a run writes about its model besides scores.

    `status` is 'trained' (the boosters are the artifacts at `artifact_path`) or 'baseline_only' (too
    little history; never cached: such runs are small and cheap).
    """

    status: str
    reason: str
    trained_as_of: date
    training_cutoffs: tuple[date, ...]
    training_rows: int = 0
    model_version: str | None = None
    artifact_path: str | None = None
    artifact_sha256: str | None = None
    beat_baselines: bool | None = None
    champion: str | None = None
    summary: Metrics = field(default_factory=dict)
    backtests: dict[date, Metrics] = field(default_factory=dict)

    def to_json(self) -> str:
        content = asdict(self)
        content["trained_as_of"] = self.trained_as_of.isoformat()
        content["training_cutoffs"] = [c.isoformat() for c in self.training_cutoffs]
        content["backtests"] = {c.isoformat(): metrics for c, metrics in self.backtests.items()}
        return json.dumps(content, indent=2, allow_nan=True)

    @classmethod
    def from_json(cls, text: str) -> TrainingOutcome:
        content: dict[str, Any] = json.loads(text)
        content["trained_as_of"] = date.fromisoformat(content["trained_as_of"])
        content["training_cutoffs"] = tuple(date.fromisoformat(c) for c in content["training_cutoffs"])
        content["backtests"] = {date.fromisoformat(c): m for c, m in content["backtests"].items()}
        return cls(**content)


class ModelCache:
    """`<models_dir>/cache/<key>.json`: the outcome of the training a key names, written atomically."""

    def __init__(self, models_dir: Path) -> None:
        self.directory = models_dir / "cache"

    def entry(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def lookup(self, key: str) -> TrainingOutcome | None:
        """The cached outcome, or None when there is none or its artifacts are gone or changed."""
        path = self.entry(key)
        if not path.exists():
            return None
        outcome = TrainingOutcome.from_json(path.read_text())
        manifest = Path(outcome.artifact_path or "") / "manifest.json"
        if not manifest.is_file() or file_sha256(manifest) != outcome.artifact_sha256:
            log.warning("model cache entry %s names artifacts that are missing or changed: retraining", path)
            return None
        return outcome

    def store(self, key: str, outcome: TrainingOutcome) -> None:
        if outcome.status != "trained":
            raise ValueError(f"only trained models are cached, not a {outcome.status!r} outcome")
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.entry(key).with_suffix(f".json.{os.getpid()}.tmp")
        partial.write_text(outcome.to_json())
        os.replace(partial, self.entry(key))
