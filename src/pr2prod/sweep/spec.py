"""The search space: composed from ``conf/sweep/``, validated, turned into Ray Tune's."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from pr2prod.config.errors import ConfigError
from pr2prod.config.hydra_compose import compose_group
from pr2prod.config.loader import describe_error
from pr2prod.config.overrides import format_value, merge_overrides
from pr2prod.config.sweep_schema import (
    ParamType,
    SearchAlgorithm,
    SweepConfig,
    check_sweep,
    param_type,
    search_algorithm,
)

GROUP = "sweep"


def split_overrides(overrides: Sequence[str]) -> tuple[str, list[str], list[str]]:
    """``(sweep option, sweep.* overrides, trial overrides)`` from the command line.

    ``sweep=<option>`` picks the file, ``sweep.<key>=...`` changes it, anything else is
    applied to every trial (added to ``sweep.overrides``).
    """
    option, own, trial = "default", [], []
    for ov in overrides:
        key = ov.split("=", 1)[0]
        if key == GROUP:
            option = ov.split("=", 1)[1]
        elif key.startswith(GROUP + "."):
            own.append(ov)
        else:
            trial.append(ov)
    return option, own, trial


def to_sweep_config(raw: dict[str, Any]) -> SweepConfig:
    """Typed and validated sweep config from a plain mapping.

    Raises:
        ConfigError: unknown key, wrong type, or an invalid search space (names the key).
    """
    try:
        node = OmegaConf.merge(OmegaConf.structured(SweepConfig), raw)
        obj = OmegaConf.to_object(node)
    except OmegaConfBaseException as exc:
        raise ConfigError("sweep: " + describe_error(exc)) from None
    assert isinstance(obj, SweepConfig)
    check_sweep(obj)
    return obj


def load_sweep(conf_dir: str | Path, overrides: Sequence[str] = ()) -> SweepConfig:
    """Compose ``conf/sweep/<option>.yaml`` with command-line overrides and validate it."""
    option, own, trial = split_overrides(overrides)
    raw = compose_group(conf_dir, GROUP, option, own)
    raw["overrides"] = merge_overrides(list(raw.get("overrides") or []), trial)
    return to_sweep_config(raw)


def tune_space(cfg: SweepConfig) -> dict[str, Any]:
    """Ray Tune's ``param_space`` for the sweep's parameters."""
    from ray import tune

    grid = search_algorithm(cfg) is SearchAlgorithm.grid
    space: dict[str, Any] = {}
    for key, spec in cfg.parameters.items():
        kind = param_type(key, spec)
        if kind is ParamType.choice:
            values = list(spec.values or [])
            space[key] = tune.grid_search(values) if grid else tune.choice(values)
            continue
        low, high = float(spec.low or 0.0), float(spec.high or 0.0)  # checked: both set
        if kind is ParamType.uniform:
            space[key] = tune.uniform(low, high)
        elif kind is ParamType.loguniform:
            space[key] = tune.loguniform(low, high)
        else:  # int: both ends included (Tune's randint excludes the upper bound)
            space[key] = tune.randint(int(low), int(high) + 1)
    return space


def trial_count(cfg: SweepConfig) -> int:
    """How many trials the sweep runs (grid: the number of combinations)."""
    if search_algorithm(cfg) is SearchAlgorithm.grid:
        sizes = [len(spec.values or []) for spec in cfg.parameters.values()]
        return len(list(itertools.product(*[range(n) for n in sizes])))
    return cfg.num_samples


def plain(value: Any) -> Any:
    """A sampled value as a plain Python scalar (NumPy scalars have ``.item()``)."""
    return value.item() if hasattr(value, "item") else value


def trial_overrides(cfg: SweepConfig, values: dict[str, Any]) -> list[str]:
    """The Hydra overrides of one trial: the sweep's shared ones, then its own values."""
    own = [f"{key}={_format(values[key])}" for key in cfg.parameters]
    return merge_overrides(list(cfg.overrides), own)


def _format(value: Any) -> str:
    value = plain(value)
    if isinstance(value, str) and _bare(value):  # a group option: `features=minimal`
        return value
    return format_value(value)


def _bare(value: str) -> bool:
    """A string Hydra reads back as the same string without quotes."""
    if value.lower() in {"null", "true", "false", "nan", "inf"}:
        return False
    if not value[:1].isalpha():
        return False
    return value.replace("_", "").replace("-", "").isalnum()
