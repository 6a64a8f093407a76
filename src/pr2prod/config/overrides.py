"""Hydra override strings: infer them from a changed config, merge and format them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pr2prod.config.errors import ConfigError


def format_value(value: Any) -> str:
    """Format a Python value in Hydra's override grammar."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        return f"'{escaped}'"
    if isinstance(value, list | tuple):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{format_value(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"cannot express {value!r} as a Hydra override")


def override_key(override: str) -> str:
    """The dotted key an override sets (``model=rf`` -> ``model``; ``+a.b=1`` -> ``a.b``)."""
    key = override.split("=", 1)[0]
    return key.lstrip("+~")


def merge_overrides(old: Sequence[str], new: Iterable[str]) -> list[str]:
    """Later overrides win per key; switching a group drops the overrides inside it."""
    merged = list(old)
    for ov in new:
        key = override_key(ov)
        merged = [
            o
            for o in merged
            if override_key(o) != key and not override_key(o).startswith(key + ".")
        ]
        merged.append(ov)
    return merged


def infer_overrides(changed: dict[str, Any], base: dict[str, Any], groups: set[str]) -> list[str]:
    """Overrides that turn ``base`` into ``changed``.

    A top-level group key holding an option name (what ``dvc exp run -S model=rf`` writes)
    becomes a group override; any other difference becomes a value override.

    Raises:
        ConfigError: for a key ``base`` does not have, naming the allowed keys.
    """
    found: list[str] = []
    for key, value in changed.items():
        if key in groups and isinstance(value, str) and value != base.get(key):
            found.append(f"{key}={value}")
            continue
        found.extend(_diff(value, base, key, key))
    return found


def _diff(value: Any, parent: dict[str, Any], key: str, path: str) -> list[str]:
    if key not in parent:
        allowed = ", ".join(sorted(str(k) for k in parent)) or "(none)"
        raise ConfigError(f"unknown config key '{path}'; allowed keys here: {allowed}")
    old = parent[key]
    if isinstance(value, dict) and isinstance(old, dict):
        out: list[str] = []
        for sub, sub_value in value.items():
            out.extend(_diff(sub_value, old, sub, f"{path}.{sub}"))
        return out
    return [] if value == old else [f"{path}={format_value(value)}"]
