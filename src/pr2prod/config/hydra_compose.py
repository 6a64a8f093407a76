"""Hydra composition of ``conf/`` with clear errors, reading nothing outside ``conf/``.

Before composing, :func:`pr2prod.config.confscan.scan_conf` refuses a symlink leaving
``conf/``, a YAML tag, a ``hydra`` node and a ``defaults`` entry that could leave ``conf/``;
an override of ``hydra.*`` is refused. After composing, the config sources Hydra actually
used must be ``conf/``, Hydra's own package and pr2prod's schemas: a ``hydra.searchpath``
entry, however it was set, is refused before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pr2prod.config.confscan import refuse_hydra_overrides, scan_conf
from pr2prod.config.errors import ConfigError
from pr2prod.config.explain import explain
from pr2prod.config.loader import to_config
from pr2prod.config.resolvers import refuse_resolvers
from pr2prod.config.store import register_schemas
from pr2prod.config.trust import POLICY_KEYS, policy_key_message

VERSION_BASE = "1.3"
#: Config sources a composition may read: (schema, provider).
_SOURCES = {("pkg", "hydra"), ("file", "main"), ("structured", "schema")}
_POLICY_KEY = re.compile(r"'(" + "|".join(POLICY_KEYS) + r")'")


def _composed(conf: Path, config_name: str | None, overrides: Sequence[str]) -> Any:
    """Compose under Hydra, then drop its own node once its sources are checked."""
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict

    scan_conf(conf)
    refuse_hydra_overrides(overrides)
    with initialize_config_dir(str(conf), version_base=VERSION_BASE, job_name="pr2prod"):
        cfg = compose(config_name=config_name, overrides=list(overrides), return_hydra_config=True)
    searchpath = list(cfg.hydra.searchpath or [])
    if searchpath:
        raise ConfigError(
            f"hydra.searchpath: {searchpath} is not allowed: a config reads conf/ only"
        )
    for source in cfg.hydra.runtime.config_sources:
        if (source.schema, source.provider) not in _SOURCES:
            raise ConfigError(
                f"hydra: config source {source.schema}://{source.path} ({source.provider}) is "
                "not allowed: a config reads conf/ only"
            )
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def _explain(exc: Exception) -> str:
    text = explain(exc)
    m = _POLICY_KEY.search(text)
    return policy_key_message(m.group(1)) if m and "unknown config key" in text else text


def compose_dict(conf_dir: str | Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Compose ``conf_dir/config.yaml`` with ``overrides``; validate; return a plain dict.

    Raises:
        ConfigError: unknown group option (lists the options), unknown key (lists the keys
            of its section), wrong type, or a value outside a closed set.
    """
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    conf = Path(conf_dir).resolve()
    if not (conf / "config.yaml").is_file():
        raise ConfigError(f"{conf}/config.yaml: not found (is this a pr2prod project?)")
    register_schemas()
    try:
        cfg = _composed(conf, "config", overrides)
        refuse_resolvers(OmegaConf.to_container(cfg, resolve=False))  # type: ignore[arg-type]
        raw = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_explain(exc)) from None
    assert isinstance(raw, dict)
    body = {str(k): v for k, v in raw.items()}
    to_config(body)  # typed validation of the model family and closed choices
    return body


def compose_group(
    conf_dir: str | Path, group: str, option: str, overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """Compose one option of a group on its own (``conf/<group>/<option>.yaml``).

    For groups that never enter ``params.yaml`` (``sweep``): nothing else of ``conf/`` is
    composed. ``overrides`` address the group's keys (``sweep.num_samples=4``).

    Raises:
        ConfigError: unknown option (lists the options), unknown key, wrong type.
    """
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    conf = Path(conf_dir).resolve()
    if not (conf / group).is_dir():
        raise ConfigError(f"{conf}/{group}/: not found (no `{group}` options in this project)")
    register_schemas()
    try:
        cfg = _composed(conf, None, [f"+{group}={option}", *overrides])
        refuse_resolvers(OmegaConf.to_container(cfg, resolve=False))  # type: ignore[arg-type]
        raw = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_explain(exc)) from None
    assert isinstance(raw, dict)
    body = raw.get(group)
    if not isinstance(body, dict):
        raise ConfigError(f"{group}={option}: composed to {body!r}, expected a mapping")
    return body
