"""Artifact metadata (hashed, so nothing time- or machine-specific) and run info (not)."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import asdict
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from pr2prod.config.loader import model_name, model_params
from pr2prod.config.schema import Config
from pr2prod.fsio import file_md5

LIBRARIES = ("pr2prod", "scikit-learn", "numpy", "pandas", "skops", "torch", "skorch")


def params_hash(cfg: Config) -> str:
    """MD5 of the config sections that change the trained model.

    ``data.feedback_guard`` counts only when it is on, so an artifact trained before the
    guard existed keeps its hash.
    """
    data = asdict(cfg.data)
    if not cfg.data.feedback_guard.column:
        data.pop("feedback_guard")
    relevant = {
        "seed": cfg.seed,
        "data": data,
        "split": asdict(cfg.split),
        "features": asdict(cfg.features),
        "model": model_params(cfg.model),
    }
    blob = json.dumps(relevant, sort_keys=True, default=str).encode()
    return hashlib.md5(blob, usedforsecurity=False).hexdigest()


def data_hash(paths: Sequence[Path]) -> str:
    """MD5 over the prepared split files (what the gate checks before comparing models)."""
    h = hashlib.md5(usedforsecurity=False)
    for p in paths:
        h.update(Path(p).name.encode() + b"\0" + file_md5(p).encode())
    return h.hexdigest()


def library_versions() -> dict[str, str]:
    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = importlib_metadata.version(lib)
        except importlib_metadata.PackageNotFoundError:
            out[lib] = "absent"
    return out


def artifact_metadata(cfg: Config, params_path: Path, data_paths: Sequence[Path]) -> dict[str, Any]:
    return {
        "model_name": model_name(cfg.model),
        "task": cfg.data.task,
        "data_name": cfg.data.name,
        "experiment": cfg.experiment,
        "params_hash": params_hash(cfg),
        "data_hash": data_hash(data_paths),
        # major.minor only: a patch release changes no numerics but would change the hash
        "python": ".".join(platform.python_version_tuple()[:2]),
        "libraries": library_versions(),
    }


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def run_info(wall_time_s: float, envelope: dict[str, Any] | None = None) -> dict[str, Any]:
    """Facts about this run that must stay out of the hashed artifact.

    ``envelope`` is the numerical envelope as it took effect (``pr2prod.envelope.facts``).
    """
    import datetime as dt

    return {
        "wall_time_s": round(wall_time_s, 3),
        "envelope": envelope or {},
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
    }
