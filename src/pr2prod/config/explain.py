"""Turn Hydra/OmegaConf errors into one message naming the full key and what is allowed."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from omegaconf.errors import OmegaConfBaseException

_UNKNOWN_KEY = re.compile(r"Key '[^']*' (?:is )?not in ")
_BAD_CHOICE = re.compile(r"Invalid value '(.*)', expected one of \[(.*)\]")
_BAD_ENUM_KEY = re.compile(r"Key '.*' is incompatible with the enum type '.*', valid: \[(.*)\]")


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def allowed_keys(exc: OmegaConfBaseException) -> list[str] | None:
    """The keys allowed where ``exc`` found an unknown one (``None`` when not known)."""
    object_type: Any = getattr(exc, "object_type", None)
    if dataclasses.is_dataclass(object_type) and isinstance(object_type, type):
        return [f.name for f in dataclasses.fields(object_type)]
    parent = getattr(exc, "parent_node", None)
    if parent is not None and hasattr(parent, "keys"):
        return [str(k) for k in parent]
    return None


def _full_key(exc: BaseException, prefix: str) -> str:
    key = str(getattr(exc, "full_key", None) or "")
    return f"{prefix}.{key}" if prefix and key else key


def explain_node_error(exc: OmegaConfBaseException, prefix: str = "") -> str | None:
    """A message for an unknown key or a value outside a closed set; ``None`` otherwise.

    ``prefix`` is the key of the node the failing config was merged into on its own.
    """
    full_key = _full_key(exc, prefix)
    text = str(exc)
    if not full_key:
        return None
    choice = _BAD_CHOICE.search(text)
    if choice:
        value, allowed = choice.groups()
        return f"{full_key}: {value!r} is not one of {allowed}"
    enum_key = _BAD_ENUM_KEY.search(text)
    if enum_key:
        return f"unknown config key '{full_key}'; allowed keys here: {enum_key.group(1)}"
    if _UNKNOWN_KEY.search(text):
        keys = allowed_keys(exc)
        listed = ", ".join(keys) if keys else "(none)"
        message = f"unknown config key '{full_key}'; allowed keys here: {listed}"
        if getattr(exc, "object_type", None) is dict:
            parent = full_key.rsplit(".", 1)[0]
            message += f" (to add an entry to {parent}, start the override with '+')"
        return message
    return None


def explain(exc: BaseException, prefix: str = "") -> str:
    """One readable message from a Hydra/OmegaConf error chain.

    An unknown key names its full key and the keys allowed at that place; a value outside a
    closed set names its full key and the allowed values; anything else keeps every distinct
    line of the chain, with the full key in front when OmegaConf knows it. ``prefix`` is
    the key of the node the failing config was merged into on its own (``model``).
    """
    chain = _chain(exc)
    for cur in chain:
        if isinstance(cur, OmegaConfBaseException):
            message = explain_node_error(cur, prefix)
            if message:
                return message
    for cur in chain:
        key = _full_key(cur, prefix)
        if isinstance(cur, OmegaConfBaseException) and key:
            line = _first_line(cur)
            return f"{key}: {line}" if key not in line else line
    parts: list[str] = []
    for cur in chain:
        text = str(cur).strip()
        if text and text not in parts:
            parts.append(text)
    return "\n".join(parts) or type(exc).__name__
