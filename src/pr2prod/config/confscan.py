"""What ``conf/`` may hold, checked on its files before Hydra reads any of them.

* no symlink resolving outside ``conf/`` (a file read from elsewhere escapes the digest);
* plain YAML only: a tag (``!!python/object/apply:...``) is a config error naming the file;
* no ``hydra`` node and no ``# @package hydra``: ``hydra.searchpath`` would add config
  sources outside ``conf/``;
* ``defaults`` entries name a group option inside ``conf/`` (or a ``base_*`` schema): no
  ``..``, no ``scheme://``, no interpolation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from pr2prod.config.errors import ConfigError

_BAD_IN_DEFAULT = ("..", "://", "${", "\\")


def conf_files(conf: Path) -> Iterator[Path]:
    """Every YAML file under ``conf`` (sorted), refusing a symlink that leaves ``conf``."""
    root = conf.resolve()
    for path in sorted(conf.rglob("*")):
        real = path.resolve()
        if path.is_symlink() and not real.is_relative_to(root):
            raise ConfigError(
                f"{_rel(path, conf)}: a symlink to {real}, outside conf/; a config reads conf/ only"
            )
        if path.suffix == ".yaml" and path.is_file():
            yield path


def load_yaml(path: Path, label: str) -> Any:
    """Parse plain YAML; a tag or a syntax error is a config error naming ``label``."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{label}:{where}: not plain YAML ({problem}); a config holds data only, no YAML tags"
        ) from None


def scan_conf(conf: Path) -> None:
    """Refuse what :mod:`this module <pr2prod.config.confscan>` lists, naming file and key."""
    for path in conf_files(conf):
        label = f"conf/{_rel(path, conf)}"
        text = path.read_text(encoding="utf-8")
        package = [ln for ln in text.splitlines() if ln.strip().startswith("# @package")]
        if any("hydra" in ln for ln in package):
            raise ConfigError(f"{label}: `{package[0].strip()}` is not allowed (Hydra's own node)")
        data = load_yaml(path, label)
        if not isinstance(data, dict):
            continue
        if "hydra" in data:
            raise ConfigError(
                f"{label}: hydra: Hydra's own node (hydra.searchpath, ...) is not allowed in a "
                "config: a config reads conf/ only"
            )
        _check_defaults(data.get("defaults") or [], label)


def _check_defaults(entries: Iterable[Any], label: str) -> None:
    if not isinstance(entries, list):
        raise ConfigError(f"{label}: defaults: expected a list")
    for entry in entries:
        items = entry.items() if isinstance(entry, dict) else [(entry, None)]
        for key, value in items:
            for part in (key, value):
                text = "" if part is None else str(part)
                if any(bad in text for bad in _BAD_IN_DEFAULT) or text.lstrip().startswith(
                    ("hydra", "/hydra", "override hydra", "override /hydra")
                ):
                    raise ConfigError(
                        f"{label}: defaults: {entry!r} is not allowed: a defaults entry names a "
                        "group option inside conf/"
                    )


def refuse_hydra_overrides(overrides: Iterable[str]) -> None:
    """Refuse an override of Hydra's own node (``hydra.searchpath=[...]``)."""
    for o in overrides:
        key = str(o).split("=", 1)[0].lstrip("+~").strip()
        if key == "hydra" or key.startswith(("hydra.", "hydra/")):
            raise ConfigError(f"{key}: overriding Hydra's own node is not allowed")


def _rel(path: Path, conf: Path) -> str:
    try:
        return path.relative_to(conf).as_posix()
    except ValueError:
        return str(path)
