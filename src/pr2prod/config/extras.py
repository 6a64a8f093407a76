"""Name the pip extra a config needs when it is not installed, before anything imports it.

The base install (``pip install pr2prod``) is scikit-learn only; torch/skorch, Ray, DVC's S3
remote and PostgreSQL's driver are extras (pyproject.toml). A composed config that names a
class from an extra's packages fails at compose, not halfway through ``dvc repro``::

    model=torch_mlp needs `pip install 'pr2prod[torch]'` (not installed: torch, skorch)

Installed or not is read with :func:`importlib.util.find_spec` on the top-level package:
nothing is imported, so a scikit-learn config never loads torch here either.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pr2prod.config.errors import ConfigError

TARGET_KEY = "_target_"


@dataclass(frozen=True)
class Extra:
    """One pip extra of pr2prod: its name and the top-level modules it installs."""

    name: str
    modules: tuple[str, ...]

    def missing(self) -> list[str]:
        """The extra's top-level modules that are not importable here."""
        return [m for m in self.modules if importlib.util.find_spec(m) is None]

    @property
    def install(self) -> str:
        return f"pip install 'pr2prod[{self.name}]'"


#: The extras a config can need (names as in pyproject.toml's optional-dependencies).
TORCH = Extra("torch", ("torch", "skorch"))
RAY = Extra("ray", ("ray",))
S3 = Extra("s3", ("dvc_s3",))
POSTGRES = Extra("postgres", ("psycopg",))

#: ``_target_`` prefixes -> the extra the target's module comes from.
TARGET_EXTRAS: tuple[tuple[str, Extra], ...] = (
    ("pr2prod.models.torch_mlp", TORCH),
    ("torch.", TORCH),
    ("skorch.", TORCH),
    ("ray.", RAY),
)


def _targets(tree: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(tree, Mapping):
        target = tree.get(TARGET_KEY)
        if isinstance(target, str):
            yield path, target
        for key, value in tree.items():
            yield from _targets(value, (*path, str(key)))
    elif isinstance(tree, list | tuple):
        for i, value in enumerate(tree):
            yield from _targets(value, (*path, str(i)))


def _who(tree: Mapping[str, Any], path: tuple[str, ...]) -> str:
    """``model=torch_mlp`` for a group with a ``name``; the key path otherwise."""
    if not path:
        return "the config"
    group = tree.get(path[0])
    name = group.get("name") if isinstance(group, Mapping) else None
    return f"{path[0]}={name}" if isinstance(name, str) else ".".join(path)


def needed_extras(tree: Mapping[str, Any]) -> dict[str, Extra]:
    """Who needs which extra: ``{"model=torch_mlp": TORCH}`` (installed or not)."""
    needs: dict[str, Extra] = {}
    for path, target in _targets(tree):
        for prefix, extra in TARGET_EXTRAS:
            if target == prefix.rstrip(".") or target.startswith(prefix):
                needs.setdefault(_who(tree, path), extra)
    return needs


def check_extras(tree: Mapping[str, Any]) -> None:
    """Refuse a composed config that needs an extra this environment lacks.

    Raises:
        ConfigError: naming the config choice, the install command and the missing modules.
    """
    problems = [
        f"{who} needs `{extra.install}` (not installed: {', '.join(missing)})"
        for who, extra in needed_extras(tree).items()
        if (missing := extra.missing())
    ]
    if problems:
        raise ConfigError("; ".join(problems))


def require_extra(extra: Extra, what: str) -> None:
    """Refuse ``what`` (a command, a URL scheme) when ``extra`` is not installed.

    Raises:
        ConfigError: ``pr2prod sweep needs `pip install 'pr2prod[ray]'` (not installed: ray)``.
    """
    missing = extra.missing()
    if missing:
        raise ConfigError(f"{what} needs `{extra.install}` (not installed: {', '.join(missing)})")
