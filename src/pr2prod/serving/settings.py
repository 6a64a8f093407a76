"""What the service needs at import time: its config and where the model is.

Read from ``PR2PROD_<KEY>`` environment variables (deploy-time overrides), else BentoML
arguments (``bentoml build/serve --arg KEY=VALUE``; a built Bento stores them), else
``params.yaml`` and its ``paths.model`` in the working directory (the packaged catalog's
model directory without a ``params.yaml``). Cheap: no pandas, no
scikit-learn. Note: ``bentoml serve <bento>`` runs inside the Bento's ``src/``, so give a
Bento an absolute ``prediction_log.path`` (``PR2PROD_SERVE_CONFIG``) to log outside it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from pr2prod.config import catalog
from pr2prod.config.acceptance_schema import AcceptanceConfig
from pr2prod.config.serve_schema import ServeConfig, check_serve

DEFAULT_PARAMS = "params.yaml"
ARG_KEYS = (
    "model_tag",
    "model_dir",
    "model_version",
    "serve_config",
    "acceptance_config",
    "trusted_packages",
    "params",
)


@dataclass
class Settings:
    """Resolved settings: ``model_tag`` (model store) or ``model_dir`` (a directory)."""

    serve: ServeConfig
    acceptance: AcceptanceConfig
    model_tag: str | None
    model_dir: str
    model_version: str | None
    #: The team's own packages an artifact may hold classes of (``allowed_targets`` beyond
    #: the libraries, :func:`pr2prod.config.targets.project_packages`); nothing else loads.
    trusted_packages: tuple[str, ...] = ()


def serve_config_from_dict(data: dict[str, Any]) -> ServeConfig:
    """Validate a ``serve`` mapping against the schema (unknown keys, bad types and values
    :func:`~pr2prod.config.serve_schema.check_serve` refuses fail)."""
    node = OmegaConf.merge(OmegaConf.structured(ServeConfig), data)
    obj = OmegaConf.to_object(node)
    assert isinstance(obj, ServeConfig)
    check_serve(obj)
    return obj


def acceptance_config_from_dict(data: dict[str, Any]) -> AcceptanceConfig:
    """Validate an ``acceptance`` mapping against the schema (unknown keys and values fail)."""
    node = OmegaConf.merge(OmegaConf.structured(AcceptanceConfig), data)
    obj = OmegaConf.to_object(node)
    assert isinstance(obj, AcceptanceConfig)
    return obj


def serve_config_json(cfg: ServeConfig) -> str:
    return json.dumps(asdict(cfg), sort_keys=True)


def acceptance_config_json(cfg: AcceptanceConfig) -> str:
    """The ``acceptance`` group as JSON (enum members as their values)."""
    return json.dumps({k: str(v) if isinstance(v, str) else v for k, v in asdict(cfg).items()})


def trusted_packages_json(packages: Sequence[str]) -> str:
    """The ``trusted_packages`` argument: a JSON list of dotted prefixes (``"acme_ml."``)."""
    return json.dumps(list(packages))


def trusted_packages_from_json(raw: str) -> tuple[str, ...]:
    """Read :func:`trusted_packages_json`'s list back; anything else is a clear error."""
    value = json.loads(raw)
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise ValueError(
            f'trusted_packages: {raw!r} is not a JSON list of package prefixes (e.g. ["acme_ml."])'
        )
    return tuple(value)


def _from_params(
    path: Path,
) -> tuple[ServeConfig, AcceptanceConfig, tuple[str, ...], str | None]:
    """The config and model directory of ``params.yaml``; the defaults (and no model
    directory) without one."""
    if not path.exists():
        return ServeConfig(), AcceptanceConfig(), (), None
    from pr2prod.config.loader import load_params
    from pr2prod.config.targets import project_packages

    cfg = load_params(path)
    return cfg.serve, cfg.acceptance, project_packages(cfg.allowed_targets), cfg.paths.model


def resolve(args: dict[str, Any] | None = None) -> Settings:
    """``PR2PROD_<KEY>`` env vars, then BentoML arguments, then the defaults.

    ``serve_config``, ``acceptance_config`` and ``trusted_packages`` are JSON; without
    ``serve_config`` all three come from ``params.yaml`` (a given ``acceptance_config`` or
    ``trusted_packages`` still wins). With ``serve_config`` but no ``acceptance_config`` (a
    Bento built before the group existed) the acceptance defaults apply; without
    ``trusted_packages`` only the libraries' own types load.
    """
    given = {k: v for k, v in (args or {}).items() if v not in (None, "")}

    def get(key: str) -> str | None:
        return os.environ.get(f"PR2PROD_{key.upper()}") or given.get(key) or None

    raw, raw_acceptance = get("serve_config"), get("acceptance_config")
    raw_trusted = get("trusted_packages")
    serve, acceptance = ServeConfig(), AcceptanceConfig()
    trusted: tuple[str, ...] = ()
    model_dir: str | None = None
    if not raw:  # no config given as arguments: all of it comes from params.yaml
        serve, acceptance, trusted, model_dir = _from_params(Path(get("params") or DEFAULT_PARAMS))
    return Settings(
        serve=serve_config_from_dict(json.loads(raw)) if raw else serve,
        acceptance=(
            acceptance_config_from_dict(json.loads(raw_acceptance))
            if raw_acceptance
            else acceptance
        ),
        model_tag=get("model_tag"),
        model_dir=get("model_dir") or model_dir or catalog.default_factory("model")(),
        model_version=get("model_version"),
        trusted_packages=trusted_packages_from_json(raw_trusted) if raw_trusted else trusted,
    )
