"""Check every ``_target_`` of a config by what it resolves to, before anything is built.

A config pull request must not be able to run code. Hydra calls whatever a ``_target_``
names, at any depth, so each one is checked in three steps:

1. **By name, before importing anything.** The dotted path must be a plain Python name with
   no private component (one starting with ``_``: ``sklearn.utils._testing.…``), and it must
   start with one of the ``allowed_targets`` prefixes.
2. **By resolution.** The object is located the way Hydra locates it (``getattr`` first,
   importing submodules as needed), and its real module (``obj.__module__``) must also be
   under an allowed prefix, so a public name re-exporting a foreign function is refused.
3. **By kind.** Only classes that are scikit-learn estimators/transformers, skorch nets,
   torch modules or torch optimizers are accepted, plus the exact dotted names the config
   lists in ``allowed_callables``. Every other function or callable is refused.
4. **By schema.** The object must have a schema registered in code
   (:mod:`pr2prod.config.registry`), and every argument the config gives it must pass that
   schema: a target with no schema, or an argument no schema lists (joblib ``memory``, a
   path, a string callable), is refused.

``allowed_targets`` and ``allowed_callables`` are the trust policy, read from the project's
``pyproject.toml`` (:mod:`pr2prod.config.trust`), never from the config being checked.

The kind check reads the base classes from ``sys.modules`` and never imports torch or
skorch itself: a class cannot derive from a base whose module was never imported, so a
scikit-learn config never loads torch.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any

from pr2prod.config import builtin_targets as _builtin  # registers pr2prod's own schemas
from pr2prod.config.errors import ConfigError
from pr2prod.config.registry import TARGET_KEY, locate, validate_arguments
from pr2prod.config.trust import (
    LIBRARY_PREFIXES,
    load_trust_policy,
    policy_key_message,
    project_packages,
)

__all__ = ["LIBRARY_PREFIXES", "TARGET_KEY", "check_targets", "project_packages"]
del _builtin
#: Keys of the model mapping that are pr2prod's own, never constructor arguments.
RESERVED_MODEL_KEYS = ("name", "tasks")

# (module that defines the base, base class name, what the config author is told)
_ACCEPTED_BASES: tuple[tuple[str, str, str], ...] = (
    ("sklearn.base", "BaseEstimator", "scikit-learn estimator"),
    ("skorch.net", "NeuralNet", "skorch net"),
    ("torch.nn", "Module", "torch module"),
    ("torch.optim", "Optimizer", "torch optimizer"),
)
_ACCEPTED_TEXT = (
    "scikit-learn estimator/transformer classes, skorch nets, torch modules and torch optimizers"
)


def check_targets(
    tree: Any,
    allowed_targets: Sequence[str] | None = None,
    allowed_callables: Sequence[str] | None = None,
    path: str = "",
) -> None:
    """Refuse the first ``_target_`` in ``tree`` (at any depth) that could run code.

    Args:
        tree: a composed config (mappings, lists, dataclasses), or any part of it.
        allowed_targets: module prefixes a target must start with; ``None``: the project's
            trust policy (``pyproject.toml [tool.pr2prod]``).
        allowed_callables: exact dotted names of callables accepted as well; ``None``: the
            project's trust policy.
        path: the key path of ``tree`` in the config, used in messages (``"model"``).

    Raises:
        ConfigError: naming the key path, what the target resolved to and why it is refused.
    """
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        tree = dataclasses.asdict(tree)
    if isinstance(tree, Mapping) and not path:
        for name in ("allowed_targets", "allowed_callables"):
            if name in tree:  # a config (or an edited params.yaml) cannot widen the policy
                raise ConfigError(policy_key_message(name))
    policy = load_trust_policy()
    prefixes = list(policy.allowed_targets if allowed_targets is None else allowed_targets)
    exact = list(policy.allowed_callables if allowed_callables is None else allowed_callables)
    for key, target in _targets(tree, path):
        _check_target(target, key, prefixes, exact)
    for key, node in _outer_targets(tree, path):  # nested targets: through their schema
        args = dict(node)
        if key == "model":
            args = {k: v for k, v in args.items() if k not in RESERVED_MODEL_KEYS}
        validate_arguments(args, key, locate(str(node[TARGET_KEY]), key), str(node[TARGET_KEY]))


def _check_target(target: Any, key: str, prefixes: Sequence[str], exact: Sequence[str]) -> None:
    """Check one ``_target_`` value found at ``key`` (the steps in the module docstring)."""
    if not isinstance(target, str) or not all(p.isidentifier() for p in target.split(".")):
        raise ConfigError(f"{key}: {target!r} is not allowed: not a dotted Python name")
    private = [p for p in target.split(".") if p.startswith("_")]
    if private:
        raise ConfigError(
            f"{key}: {target!r} is not allowed: {private[0]!r} is private (starts with '_'); "
            "private modules and names are refused before anything is imported"
        )
    if not _under(target, prefixes):
        raise ConfigError(
            f"{key}: {target!r} is not allowed: not under an allowed_targets prefix "
            f"({', '.join(prefixes) or 'none'}); the trust policy lives in pyproject.toml "
            "[tool.pr2prod] (docs/security.md)"
        )
    obj = locate(target, key)
    module = getattr(obj, "__module__", None)
    real = f"{module}.{getattr(obj, '__qualname__', '?')}" if module else target
    if module and not _under(f"{module}.", prefixes):  # "sklearn" is under "sklearn."
        raise ConfigError(
            f"{key}: {target!r} is not allowed: it resolves to {real}, defined outside the "
            f"allowed_targets prefixes ({', '.join(prefixes)})"
        )
    if target not in exact and _accepted_kind(obj) is None:
        raise ConfigError(
            f"{key}: {target!r} is not allowed: it resolves to {_describe(obj)} {real}, and "
            f"only {_ACCEPTED_TEXT} are accepted; if it is safe to call from a config, add "
            "its exact name to `allowed_callables` in pyproject.toml [tool.pr2prod]"
        )


def _targets(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """``(key path, value)`` of every ``_target_`` in ``node``, outermost first."""
    if isinstance(node, Mapping):
        if TARGET_KEY in node:
            yield _join(path, TARGET_KEY), node[TARGET_KEY]
        for key, value in node.items():
            if key != TARGET_KEY:
                yield from _targets(value, _join(path, str(key)))
    elif isinstance(node, Sequence) and not isinstance(node, str | bytes):
        for i, value in enumerate(node):
            yield from _targets(value, f"{path}[{i}]")


def _outer_targets(node: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(key path, mapping)`` of every target not nested inside another target."""
    if isinstance(node, Mapping):
        if TARGET_KEY in node:
            yield path, node
            return
        for key, value in node.items():
            yield from _outer_targets(value, _join(path, str(key)))
    elif isinstance(node, Sequence) and not isinstance(node, str | bytes):
        for i, value in enumerate(node):
            yield from _outer_targets(value, f"{path}[{i}]")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _under(name: str, prefixes: Sequence[str]) -> bool:
    return any(name.startswith(p) for p in prefixes)


def _accepted_kind(obj: Any) -> str | None:
    """Which accepted base ``obj`` (a class) derives from, or ``None``."""
    if not isinstance(obj, type):
        return None
    for module_name, base_name, kind in _ACCEPTED_BASES:
        module = sys.modules.get(module_name)  # never import torch/skorch here
        base = getattr(module, base_name, None) if module is not None else None
        if isinstance(base, type) and issubclass(obj, base):
            return kind
    return None


def _describe(obj: Any) -> str:
    if isinstance(obj, ModuleType):
        return "module"
    if isinstance(obj, type):
        return "class"
    if callable(obj):
        return "function" if hasattr(obj, "__code__") else "callable"
    return type(obj).__name__
