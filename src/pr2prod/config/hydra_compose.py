"""Hydra composition of ``conf/`` with clear errors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pr2prod.config.errors import ConfigError
from pr2prod.config.explain import explain
from pr2prod.config.loader import to_config
from pr2prod.config.resolvers import refuse_resolvers
from pr2prod.config.store import register_schemas

VERSION_BASE = "1.3"


def compose_dict(conf_dir: str | Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Compose ``conf_dir/config.yaml`` with ``overrides``; validate; return a plain dict.

    Raises:
        ConfigError: unknown group option (lists the options), unknown key (lists the keys
            of its section), wrong type, or a value outside a closed set.
    """
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    conf = Path(conf_dir).resolve()
    if not (conf / "config.yaml").is_file():
        raise ConfigError(f"{conf}/config.yaml: not found (is this a pr2prod project?)")
    register_schemas()
    try:
        with initialize_config_dir(str(conf), version_base=VERSION_BASE, job_name="pr2prod"):
            cfg = compose(config_name="config", overrides=list(overrides))
        refuse_resolvers(OmegaConf.to_container(cfg, resolve=False))  # type: ignore[arg-type]
        raw = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(explain(exc)) from None
    assert isinstance(raw, dict)
    body = {str(k): v for k, v in raw.items()}
    to_config(body)  # typed validation of the model family and closed choices
    return body
