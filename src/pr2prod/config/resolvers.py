"""Configs may refer to other keys (``${paths.model}``), never call a resolver.

A resolver runs at composition time: ``${oc.env:DVC_SECRET}`` copies an environment variable
(a CI secret) into ``params.yaml``, and from there into the PR comment's params diff;
``${oc.decode:...}`` parses arbitrary text. A config pull request is untrusted input, so any
``${name:...}`` interpolation is refused before anything is resolved or written.
"""

from __future__ import annotations

import re
from typing import Any

from pr2prod.config.errors import ConfigError

_RESOLVER = re.compile(r"\$\{\s*([A-Za-z_][\w.]*)\s*:")


def _walk(node: Any, path: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk(value, f"{path}[{i}]")
    elif isinstance(node, str) and (m := _RESOLVER.search(node)):
        raise ConfigError(
            f"{path}: the resolver ${{{m.group(1)}:...}} is not allowed in a config (it would "
            "run at composition time, e.g. copy an environment variable into params.yaml); "
            "use a plain value or a key reference such as ${paths.model}"
        )


def refuse_resolvers(unresolved: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the first key whose value calls a resolver."""
    _walk(unresolved, "")
