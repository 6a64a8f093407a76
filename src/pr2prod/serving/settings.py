"""What the service needs at import time: its config and where the model is.

Read from BentoML arguments (``bentoml build/serve --arg KEY=VALUE``; stored in a built
Bento) or ``PR2PROD_*`` environment variables, else from ``params.yaml`` and
``models/model`` in the working directory. Cheap: no pandas, no scikit-learn.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from pr2prod.config.serve_schema import ServeConfig

DEFAULT_MODEL_DIR = "models/model"
DEFAULT_PARAMS = "params.yaml"
ARG_KEYS = ("model_tag", "model_dir", "model_version", "serve_config", "params")


@dataclass
class Settings:
    """Resolved settings: ``model_tag`` (model store) or ``model_dir`` (a directory)."""

    serve: ServeConfig
    model_tag: str | None
    model_dir: str
    model_version: str | None


def serve_config_from_dict(data: dict[str, Any]) -> ServeConfig:
    """Validate a ``serve`` mapping against the schema (unknown keys and bad types fail)."""
    node = OmegaConf.merge(OmegaConf.structured(ServeConfig), data)
    obj = OmegaConf.to_object(node)
    assert isinstance(obj, ServeConfig)
    return obj


def serve_config_json(cfg: ServeConfig) -> str:
    return json.dumps(asdict(cfg), sort_keys=True)


def _serve_from_params(path: Path) -> ServeConfig:
    if not path.exists():
        return ServeConfig()
    from pr2prod.config.loader import load_params

    return load_params(path).serve


def resolve(args: dict[str, Any] | None = None) -> Settings:
    """Merge BentoML arguments, then ``PR2PROD_<KEY>`` env vars, then the defaults."""
    given = {k: v for k, v in (args or {}).items() if v not in (None, "")}

    def get(key: str) -> str | None:
        return given.get(key) or os.environ.get(f"PR2PROD_{key.upper()}") or None

    raw = get("serve_config")
    serve = (serve_config_from_dict(json.loads(raw)) if raw
             else _serve_from_params(Path(get("params") or DEFAULT_PARAMS)))
    return Settings(serve=serve, model_tag=get("model_tag"),
                    model_dir=get("model_dir") or DEFAULT_MODEL_DIR,
                    model_version=get("model_version"))
