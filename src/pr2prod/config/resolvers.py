r"""Configs may refer to other keys (``${paths.model}``), never call a resolver.

A resolver runs at composition time: ``${oc.env:DVC_SECRET}`` copies an environment variable
(a CI secret) into ``params.yaml``, and from there into the PR comment's params diff;
``${oc.decode:...}`` parses arbitrary text. A config pull request is untrusted input, so any
``${name:...}`` interpolation is refused before anything is resolved or written.

The rule is positive: the only interpolation allowed is a plain key reference, ``${a.b}`` or
``${..sibling}``. Anything else left once those are taken out (a resolver whose name is
itself computed, ``${oc.${data.x}:AWS_SECRET_ACCESS_KEY}``, an escaped ``\${``, an
interpolated key) is refused too.
"""

from __future__ import annotations

import re
from typing import Any

from pr2prod.config.errors import ConfigError

_RESOLVER = re.compile(r"\$\{\s*([A-Za-z_][\w.]*)\s*:")
_KEY_REFERENCE = re.compile(r"\$\{\.*[A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*\}")


def _walk(node: Any, path: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if "${" in str(key):
                raise ConfigError(f"{where}: an interpolation in a key is not allowed")
            _walk(value, where)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk(value, f"{path}[{i}]")
    elif isinstance(node, str) and (m := _RESOLVER.search(node)):
        raise ConfigError(
            f"{path}: the resolver ${{{m.group(1)}:...}} is not allowed in a config (it would "
            "run at composition time, e.g. copy an environment variable into params.yaml); "
            "use a plain value or a key reference such as ${paths.model}"
        )
    elif isinstance(node, str) and "${" in _KEY_REFERENCE.sub("", node):
        raise ConfigError(
            f"{path}: {node!r} is not allowed: the only interpolation a config may use is a "
            "plain key reference such as ${paths.model} (a computed resolver name, a nested "
            "or escaped interpolation is refused)"
        )


def refuse_resolvers(unresolved: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the first key whose value calls a resolver."""
    _walk(unresolved, "")
