"""Schema of the ``sweep`` config group (conf/sweep/): a hyperparameter search space.

A sweep file is composed on its own (``pr2prod sweep sweep=<option>``); it never enters
``params.yaml``, because it changes no model: it says which models to try. Each trial's
model config is composed from ``conf/`` like any other, with the trial's values as overrides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pr2prod.config.errors import ConfigError


class ParamType(StrEnum):
    """How one parameter's values are drawn."""

    uniform = "uniform"  # float in [low, high]
    loguniform = "loguniform"  # float in [low, high], uniform in log space (low > 0)
    int = "int"  # integer in [low, high], both included
    choice = "choice"  # one of `values` (for grid search: every one of them)


class SearchAlgorithm(StrEnum):
    """Which search proposes the trials."""

    optuna = "optuna"  # Optuna's TPE through Ray Tune's OptunaSearch
    random = "random"  # Ray Tune's random sampling
    grid = "grid"  # every combination of `choice` values (num_samples is ignored)


class Direction(StrEnum):
    """Whether the metric is better high or low."""

    max = "max"
    min = "min"


# Keys a trial may not change: the prepared split (dvc.lock's `prepare` stage) is shared by
# every trial, so anything that would have made a different split is refused.
FROZEN_KEYS = ("paths", "seed", "data", "split", "experiment")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


@dataclass
class ParamSpec:
    """One searched parameter: a config key (``model.C``) or a group (``features``)."""

    type: str = "choice"
    low: float | None = None
    high: float | None = None
    values: list[Any] | None = None


@dataclass
class ResourcesConfig:
    """What one trial reserves on a Ray node."""

    cpus: float = 1.0
    gpus: float = 0.0


@dataclass
class SweepConfig:
    """A search: what to vary, what to optimise, how many trials, on what resources."""

    name: str = "sweep"
    metric: str = "accuracy"
    direction: str = "max"
    search: str = "optuna"
    num_samples: int = 8
    max_concurrent: int = 0  # 0: as many as the cluster's resources allow
    seed: int = 0
    # Overrides applied to every trial before its own values (e.g. `model=random_forest`).
    overrides: list[str] = field(default_factory=list)
    parameters: dict[str, ParamSpec] = field(default_factory=dict)
    resources: ResourcesConfig = field(default_factory=ResourcesConfig)


def _choice(key: str, value: str, enum: type[StrEnum]) -> StrEnum:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ConfigError(f"{key}: {value!r} is not one of {allowed}") from None


def param_type(key: str, spec: ParamSpec) -> ParamType:
    """The parameter's type as the enum (raises ConfigError naming the key)."""
    return ParamType(_choice(f"sweep.parameters.{key}.type", spec.type, ParamType))


def search_algorithm(cfg: SweepConfig) -> SearchAlgorithm:
    return SearchAlgorithm(_choice("sweep.search", cfg.search, SearchAlgorithm))


def direction(cfg: SweepConfig) -> Direction:
    return Direction(_choice("sweep.direction", cfg.direction, Direction))


def _check_param(key: str, spec: ParamSpec, search: SearchAlgorithm) -> None:
    where = f"sweep.parameters.{key}"
    root = key.split(".", 1)[0]
    if not key or key.startswith(("+", "~")) or "=" in key:
        raise ConfigError(f"{where}: a parameter is a plain config key such as model.C")
    if root in FROZEN_KEYS:
        raise ConfigError(
            f"{where}: {root!r} cannot vary between trials: every trial uses the prepared "
            f"split dvc.lock records (frozen keys: {', '.join(FROZEN_KEYS)})"
        )
    kind = param_type(key, spec)
    if kind is ParamType.choice:
        if not spec.values:
            raise ConfigError(f"{where}.values: a choice needs a non-empty list of values")
        if spec.low is not None or spec.high is not None:
            raise ConfigError(f"{where}: a choice takes `values`, not low/high")
        return
    if search is SearchAlgorithm.grid:
        raise ConfigError(
            f"{where}.type: grid search needs every parameter to be a choice, got {kind.value!r}"
        )
    if spec.values is not None:
        raise ConfigError(f"{where}: a {kind.value} range takes low/high, not `values`")
    if spec.low is None or spec.high is None:
        raise ConfigError(f"{where}: a {kind.value} range needs both low and high")
    if not spec.low < spec.high:
        raise ConfigError(f"{where}: low ({spec.low}) must be below high ({spec.high})")
    if kind is ParamType.loguniform and spec.low <= 0:
        raise ConfigError(f"{where}.low: a loguniform range needs low > 0, got {spec.low}")
    if kind is ParamType.int and (spec.low != int(spec.low) or spec.high != int(spec.high)):
        raise ConfigError(f"{where}: an int range needs whole numbers, got {spec.low}..{spec.high}")


def check_sweep(cfg: SweepConfig) -> None:
    """Refuse a search space that cannot run, naming the key and what is allowed.

    Raises:
        ConfigError: on the first problem found.
    """
    if not _NAME.match(cfg.name):
        raise ConfigError(
            f"sweep.name: {cfg.name!r} must start with a letter and hold only letters, digits, "
            "'_' and '-' (it names conf/experiment/<name>.yaml)"
        )
    search = search_algorithm(cfg)
    direction(cfg)
    if not cfg.metric:
        raise ConfigError("sweep.metric: name the evaluate metric to optimise (e.g. accuracy)")
    if cfg.num_samples < 1:
        raise ConfigError(f"sweep.num_samples: must be at least 1, got {cfg.num_samples}")
    if cfg.max_concurrent < 0:
        raise ConfigError(
            f"sweep.max_concurrent: must be 0 (no limit) or more, got {cfg.max_concurrent}"
        )
    if cfg.resources.cpus <= 0 or cfg.resources.gpus < 0:
        raise ConfigError(
            f"sweep.resources: cpus must be > 0 and gpus >= 0, got "
            f"cpus={cfg.resources.cpus}, gpus={cfg.resources.gpus}"
        )
    if not cfg.parameters:
        raise ConfigError("sweep.parameters: name at least one parameter to search")
    for key, spec in cfg.parameters.items():
        _check_param(key, spec, search)
    for ov in cfg.overrides:
        key = ov.split("=", 1)[0]
        if "=" not in ov or key.startswith(("+", "~")):
            raise ConfigError(
                f"sweep.overrides: {ov!r} must be KEY=VALUE or GROUP=OPTION (no + or ~)"
            )
        if key.split(".", 1)[0] in FROZEN_KEYS:
            raise ConfigError(
                f"sweep.overrides: {ov!r} changes {key.split('.', 1)[0]!r}, which every trial "
                f"shares (frozen keys: {', '.join(FROZEN_KEYS)})"
            )
        if key in cfg.parameters:
            raise ConfigError(f"sweep.overrides: {key!r} is also a searched parameter")
