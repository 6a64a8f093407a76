"""Schema of the ``paths`` config group (conf/paths/): where the pipeline reads and writes.

The values live in ``conf/paths/default.yaml`` only; ``dvc.yaml`` and the code both read
them from ``params.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import PurePosixPath

from omegaconf import MISSING

from pr2prod.config.errors import ConfigError


@dataclass
class PathsConfig:
    """Project-relative paths of the pipeline's inputs and outputs."""

    prepared: str = MISSING
    model: str = MISSING
    validation: str = MISSING
    run_facts: str = MISSING
    metrics: str = MISSING
    plots: str = MISSING
    gate_json: str = MISSING
    gate_md: str = MISSING
    gate_plots: str = MISSING
    gate_metrics: str = MISSING
    bento_json: str = MISSING


def check_paths(paths: PathsConfig) -> None:
    """Refuse a path outside the project: absolute, or climbing out with ``..``.

    Raises:
        ConfigError: naming the key and the value.
    """
    for f in fields(paths):
        value = getattr(paths, f.name)
        p = PurePosixPath(value)
        if not value or p.is_absolute() or ".." in p.parts or "\\" in value:
            raise ConfigError(
                f"paths.{f.name}: {value!r} must be a relative path inside the project "
                "(no absolute path, no '..')"
            )
