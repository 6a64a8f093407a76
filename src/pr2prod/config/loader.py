"""Read ``params.yaml`` into typed dataclasses (the only form core code sees)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from pr2prod.config import schema
from pr2prod.config.choices import plain
from pr2prod.config.confscan import load_yaml
from pr2prod.config.errors import ConfigError
from pr2prod.config.explain import explain
from pr2prod.config.outputs import check_output_paths
from pr2prod.config.ranges import check_ranges
from pr2prod.config.retrain_schema import check_retrain
from pr2prod.config.serve_schema import check_serve
from pr2prod.config.trust import refuse_policy_keys

RECORD_KEY = "compose"

# `_target_` class name -> schema of that model family (anything else is validated loosely).
_TARGET_SCHEMAS: dict[str, type[schema.ModelConfig]] = {
    "LogisticRegression": schema.LogisticRegressionConfig,
    "LinearRegression": schema.LinearRegressionConfig,
    "Ridge": schema.RidgeConfig,
    "RandomForestClassifier": schema.RandomForestConfig,
    "RandomForestRegressor": schema.RandomForestConfig,
    "HistGradientBoostingClassifier": schema.HistGradientBoostingConfig,
    "HistGradientBoostingRegressor": schema.HistGradientBoostingConfig,
    "TorchMLPClassifier": schema.TorchMLPConfig,
    "TorchMLPRegressor": schema.TorchMLPConfig,
}


_COMMON_MODEL_KEYS = frozenset(f.name for f in dataclasses.fields(schema.ModelConfig))


def schema_for_target(target: str | None) -> type[schema.ModelConfig] | None:
    """Return the schema for a model ``_target_`` or ``None`` for a user-extended target."""
    if not target:
        return None
    return _TARGET_SCHEMAS.get(target.rsplit(".", 1)[-1])


def describe_error(exc: OmegaConfBaseException, prefix: str = "") -> str:
    """Turn an OmegaConf validation error into one line naming the key and what is allowed.

    ``prefix`` is the key of a node validated on its own (``model``).
    """
    return explain(exc, prefix)


def to_config(raw: dict[str, Any]) -> schema.Config:
    """Validate a composed config dict against the schemas and return dataclasses.

    Raises:
        ConfigError: naming the first unknown key (and the keys allowed there), missing key,
            wrongly typed value or value outside a closed set (and the allowed values).
    """
    body = {k: v for k, v in raw.items() if k != RECORD_KEY}
    refuse_policy_keys(body)
    model_raw = body.pop("model", None)
    if not isinstance(model_raw, dict):
        raise ConfigError(
            f"model: expected a model config mapping, got {model_raw!r}; "
            "choose one with model=<option> (see conf/model/)"
        )
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(schema.Config), body)
    except OmegaConfBaseException as exc:
        raise ConfigError(describe_error(exc)) from exc
    model_schema = schema_for_target(model_raw.get("_target_"))
    # a team's own estimator has no pr2prod schema: its common keys are validated, every other
    # key is kept as written and goes to its constructor
    common = {k: v for k, v in model_raw.items() if k in _COMMON_MODEL_KEYS}
    try:
        model_node = OmegaConf.merge(
            OmegaConf.structured(model_schema or schema.ModelConfig),
            model_raw if model_schema is not None else common,
        )
    except OmegaConfBaseException as exc:  # merged on its own: its keys are below `model`
        raise ConfigError(describe_error(exc, prefix="model")) from exc
    try:
        cfg.model = model_node
        obj = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(describe_error(exc)) from exc
    assert isinstance(obj, schema.Config)
    if model_schema is None:
        extra = {k: v for k, v in model_raw.items() if k not in _COMMON_MODEL_KEYS}
        obj.model = {**model_params(obj.model), **extra}
    _check_choices(obj)
    check_ranges(obj)
    check_output_paths(obj)  # every output path, once: inside the project
    check_serve(obj.serve)
    check_retrain(obj.retrain)
    return obj


def _check_choices(cfg: schema.Config) -> None:
    """Checks across keys (each closed set is an enum the schema enforces on its own)."""
    tasks = model_tasks(cfg.model)
    kind = "regression" if cfg.data.task == "regression" else "classification"
    if kind not in tasks:
        raise ConfigError(
            f"model.name: {model_name(cfg.model)!r} does not support {cfg.data.task} data "
            f"(supports: {', '.join(tasks)})"
        )


def model_params(model: Any) -> dict[str, Any]:
    """The model config as a plain dict (enum members as their values), whatever schema (or
    none) it was validated with."""
    if dataclasses.is_dataclass(model) and not isinstance(model, type):
        params = dataclasses.asdict(model)
    else:
        params = dict(model)
    result = plain(params)
    assert isinstance(result, dict)
    return result


def model_name(model: Any) -> str:
    return str(model_params(model).get("name"))


def model_tasks(model: Any) -> list[str]:
    return list(model_params(model).get("tasks") or ["classification", "regression"])


def read_params_file(path: str | Path) -> dict[str, Any]:
    """Load ``params.yaml`` as a plain dict, with a clear error when it is missing."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: not found; run `pr2prod compose` to write it from conf/")
    data = load_yaml(p, str(p)) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping at the top level")
    return data


def load_params(path: str | Path = "params.yaml") -> schema.Config:
    """Read and validate ``params.yaml``."""
    return to_config(read_params_file(path))
