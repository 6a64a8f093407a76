"""The trust policy: which code a config may name. It is code, never config.

``allowed_targets`` (module prefixes a ``_target_`` may start with) and ``allowed_callables``
(exact names of non-class callables) live in the project's ``pyproject.toml``::

    [tool.pr2prod]
    allowed_targets = ["sklearn.", "skorch.", "torch.", "pr2prod.", "team_models."]
    allowed_callables = []

Nothing in ``conf/``, ``params.yaml``, an override, an experiment file or ``dvc exp run -S``
can set them: the composed config has no such keys (:func:`refuse_policy_keys`). A pull
request that widens the policy edits ``pyproject.toml``, which reaches review as code, and
``pr2prod trust-diff --base <ref>`` (``make trust-check`` in PR CI) fails until a maintainer
approves it. Without a ``[tool.pr2prod]`` table the policy is :data:`DEFAULT_POLICY`.

The project root is the current directory: where ``dvc repro`` runs every stage.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pr2prod.config.errors import ConfigError

POLICY_KEYS = ("allowed_targets", "allowed_callables")
PYPROJECT = "pyproject.toml"
LIBRARY_PREFIXES = ("sklearn.", "skorch.", "torch.", "pr2prod.")
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\.([A-Za-z][A-Za-z0-9_]*\.)*$")
_DOTTED = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")


@dataclass(frozen=True)
class TrustPolicy:
    """What a config may name, read from ``pyproject.toml [tool.pr2prod]``."""

    allowed_targets: tuple[str, ...] = LIBRARY_PREFIXES
    allowed_callables: tuple[str, ...] = ()
    source: str = "pr2prod's default (no [tool.pr2prod] table)"


DEFAULT_POLICY = TrustPolicy()


def policy_from_mapping(table: Mapping[str, Any] | None, source: str) -> TrustPolicy:
    """Validate a ``[tool.pr2prod]`` table into a policy.

    Raises:
        ConfigError: an unknown key, or an entry that is not a module prefix (``"acme."``)
            or a dotted name (``allowed_callables``).
    """
    if table is None:
        return DEFAULT_POLICY
    unknown = sorted(set(table) - set(POLICY_KEYS))
    if unknown:
        raise ConfigError(
            f"{source} [tool.pr2prod]: unknown key {unknown[0]!r}; keys: {', '.join(POLICY_KEYS)}"
        )
    targets = _entries(table, "allowed_targets", _PREFIX, source, LIBRARY_PREFIXES)
    callables = _entries(table, "allowed_callables", _DOTTED, source, ())
    return TrustPolicy(targets, callables, source)


def _entries(
    table: Mapping[str, Any], key: str, pattern: re.Pattern[str], source: str, default: tuple
) -> tuple[str, ...]:
    value = table.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source} [tool.pr2prod].{key}: expected a list of strings")
    for v in value:
        if not pattern.match(v) or any(p.startswith("_") for p in v.split(".")):
            what = "a module prefix ending in '.'" if key == "allowed_targets" else "a dotted name"
            raise ConfigError(f"{source} [tool.pr2prod].{key}: {v!r} is not {what}")
    return tuple(value)


def policy_from_toml(text: str, source: str) -> TrustPolicy:
    """The policy a ``pyproject.toml`` text declares (the default when it declares none)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    raw_tool = data.get("tool")
    tool = raw_tool if isinstance(raw_tool, dict) else {}
    return policy_from_mapping(tool.get("pr2prod"), source)


def load_trust_policy(root: str | Path | None = None) -> TrustPolicy:
    """The policy of the project at ``root`` (default: the current directory)."""
    path = (Path(root) if root is not None else Path.cwd()) / PYPROJECT
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return DEFAULT_POLICY
    return _cached(str(path.resolve()), stamp)


@lru_cache(maxsize=16)
def _cached(path: str, stamp: int) -> TrustPolicy:
    del stamp  # part of the cache key only: an edited file is read again
    return policy_from_toml(Path(path).read_text(encoding="utf-8"), PYPROJECT)


def refuse_policy_keys(body: Mapping[str, Any]) -> None:
    """Refuse a composed config (or ``params.yaml``) that carries a trust-policy key."""
    for key in POLICY_KEYS:
        if key in body:
            raise ConfigError(policy_key_message(key))


def policy_key_message(key: str) -> str:
    return (
        f"{key}: the trust policy is not config: it lives in pyproject.toml [tool.pr2prod] "
        "and is reviewed as code (docs/security.md); no conf/ file, override or experiment "
        "may set it"
    )


def widening(base: TrustPolicy, head: TrustPolicy) -> list[str]:
    """What ``head`` allows that ``base`` did not, one ``key +entry`` item each."""
    out: list[str] = []
    for key in POLICY_KEYS:
        added = [v for v in getattr(head, key) if v not in getattr(base, key)]
        out.extend(f"{key} +{v!r}" for v in added)
    return out


def policy_at_ref(ref: str, root: str | Path | None = None) -> TrustPolicy:
    """The policy ``pyproject.toml`` declared at git revision ``ref`` (the default if absent).

    Raises:
        ConfigError: ``ref`` is not a revision of the repository at ``root``.
    """
    cwd = Path(root) if root is not None else Path.cwd()
    if not ref or ref.startswith("-"):
        raise ConfigError(f"--base: {ref!r} is not a git revision")
    known = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if known.returncode != 0:
        raise ConfigError(f"--base: {ref!r} is not a commit of this repository (fetch it first)")
    shown = subprocess.run(
        ["git", "show", f"{known.stdout.strip()}:{PYPROJECT}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:  # no pyproject.toml at the base: the default policy
        return DEFAULT_POLICY
    return policy_from_toml(shown.stdout, f"{ref}:{PYPROJECT}")


def widening_message(widened: list[str]) -> str:
    """The one message PR CI fails with when the policy is widened."""
    return (
        f"this pull request widens the trust policy: {', '.join(widened)}; "
        "a maintainer must approve it"
    )


def project_packages(allowed_targets: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The team's own packages: ``allowed_targets`` prefixes beyond the built-in libraries.

    A config may already instantiate their classes, so an artifact holding them may be loaded
    (:func:`pr2prod.models.persist.load_artifact`); the libraries' own types stay governed by
    the persistence allow-list.
    """
    return tuple(p for p in allowed_targets if p and p not in LIBRARY_PREFIXES)
