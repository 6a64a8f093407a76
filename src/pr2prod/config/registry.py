"""Target schemas registered in code: the only way a ``_target_`` reaches a constructor.

A config is data. Every class a config may build has a pydantic schema that types each of
its arguments (numbers with bounds, enums, bounded strings, nested targets). An argument that
would load a file, name a module or take code (joblib ``memory``, string callables, paths,
``pre_dispatch``, ...) is in no schema, so a config that sets it is refused. A target with no
schema is refused too.

pr2prod registers its own models and transformers (:mod:`pr2prod.config.builtin_targets`).
A team registers its own classes in Python, in its package (the ``init`` template's
``src/<package>/schemas.py``), so each new schema reaches review as code::

    from pr2prod.config.registry import Field, TargetSchema, register_target

    class ClipperArgs(TargetSchema):
        lower: float = Field(0.01, ge=0.0, le=1.0)

    register_target("team_models.transformers.QuantileClipper", ClipperArgs)

A schema is found by what the ``_target_`` resolves to (the object), never by its spelling:
``torch.optim.adam.Adam`` and ``torch.optim.Adam`` are one target.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from types import ModuleType
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from pr2prod.config.errors import ConfigError

__all__ = ["Field", "NestedTarget", "TargetSchema", "locate", "register_target"]
TARGET_KEY = "_target_"
PARTIAL_KEY = "_partial_"
#: Hydra's other special keys: positional arguments and conversion switches bypass the typed
#: schema, so no config may use them.
REFUSED_SPECIAL = ("_args_", "_recursive_", "_convert_")
REGISTER_HINT = (
    "register a schema in code: pr2prod.config.registry.register_target('<module>.<Class>', "
    "<pydantic model deriving TargetSchema>) in your package (docs/security.md)"
)


class TargetSchema(BaseModel):
    """Base of every target schema: unknown arguments are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_REGISTRY: dict[str, type[TargetSchema]] = {}
_PARTIAL_OK: set[str] = set()


def register_target(name: str, schema: type[TargetSchema], *, partial: bool = False) -> None:
    """Register the schema of the class (or callable) ``name`` resolves to.

    Args:
        name: its public dotted name, e.g. ``sklearn.linear_model.LogisticRegression``.
        schema: a :class:`TargetSchema` subclass typing every argument a config may set.
        partial: whether a config may ask for ``_partial_: true`` (a factory completed by
            code, such as a torch optimizer).
    """
    if not (isinstance(schema, type) and issubclass(schema, TargetSchema)):
        raise TypeError(f"register_target({name!r}): the schema must derive TargetSchema")
    _REGISTRY[name] = schema
    if partial:
        _PARTIAL_OK.add(name)


def registered_names() -> list[str]:
    return sorted(_REGISTRY)


def locate(target: str, key: str) -> Any:
    """Resolve ``target`` as Hydra does: import the first part, then getattr or import."""
    parts = target.split(".")
    try:
        obj: Any = import_module(parts[0])
        for i, part in enumerate(parts[1:], start=1):
            if hasattr(obj, part):
                obj = getattr(obj, part)
            elif isinstance(obj, ModuleType):
                obj = import_module(".".join(parts[: i + 1]))
            else:
                raise AttributeError(f"{'.'.join(parts[:i])} has no attribute {part!r}")
    except Exception as exc:  # any import error is the config's fault, say which
        raise ConfigError(f"{key}: {target!r} cannot be resolved: {exc}") from None
    return obj


def schema_for(obj: Any) -> tuple[str, type[TargetSchema]] | None:
    """``(registered name, schema)`` of the object a target resolved to, or ``None``.

    Only registered names ending in the object's own name are resolved, so checking a
    scikit-learn target never imports torch.
    """
    own = getattr(obj, "__name__", None)
    for name, schema in _REGISTRY.items():
        if own is not None and name.rsplit(".", 1)[-1] != own:
            continue
        try:
            if locate(name, name) is obj:
                return name, schema
        except ConfigError:
            continue
    return None


def validate_arguments(node: Mapping[str, Any], key: str, obj: Any, target: str) -> None:
    """Validate the arguments of one ``_target_`` mapping against its registered schema.

    Raises:
        ConfigError: no schema (naming the target and how to register one), a special key a
            config may not use, or an argument the schema refuses (naming the key and why).
    """
    found = schema_for(obj)
    real = f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', '?')}"
    if found is None:
        raise ConfigError(
            f"{key}: {target!r} (resolves to {real}) has no registered schema, and only targets "
            f"with one may be built from a config; {REGISTER_HINT}"
        )
    name, schema = found
    for special in REFUSED_SPECIAL:
        if special in node:
            raise ConfigError(f"{_join(key, special)}: not allowed in a config")
    if node.get(PARTIAL_KEY) and name not in _PARTIAL_OK:
        raise ConfigError(f"{_join(key, PARTIAL_KEY)}: {name} may not be built as a partial")
    args = {k: v for k, v in node.items() if k not in (TARGET_KEY, PARTIAL_KEY)}
    try:
        schema.model_validate(args)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, key, name, schema)) from None


def _explain(exc: ValidationError, key: str, name: str, schema: type[TargetSchema]) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    where = _join(key, loc) if loc else key
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(schema.model_fields) or "none"
        return (
            f"{where}: not an argument {name} accepts from a config (its schema allows: "
            f"{allowed}); arguments that load files, name modules or take code are never allowed"
        )
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        return f"{where}: {msg} by {name}'s schema"
    if err["type"] == "value_error":  # a nested target's own message (it names its value)
        return f"{where}: {msg}"
    return f"{where}: {msg} (got {err.get('input')!r})"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _nested(value: Any) -> Any:
    """A nested target: validated against its own registered schema.

    Its name, resolution and kind were checked with the whole tree (``check_targets`` walks
    every ``_target_`` at any depth before any schema is applied).
    """
    if not isinstance(value, Mapping) or TARGET_KEY not in value:
        raise ValueError("expected a nested target (a mapping with a `_target_`)")
    target = str(value[TARGET_KEY])
    try:
        validate_arguments(dict(value), "", locate(target, TARGET_KEY), target)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    return value


#: Type of an argument that is itself a target (an estimator inside a pipeline, an optimizer).
NestedTarget = Annotated[dict[str, Any], AfterValidator(_nested)]
