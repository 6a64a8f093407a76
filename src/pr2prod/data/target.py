"""Check that the target column fits ``data.task`` before anything is split or trained."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pr2prod.config.choices import Task, choose
from pr2prod.config.errors import ConfigError

_SHOWN = 5


def _sample(values: list[object]) -> str:
    shown = ", ".join(repr(v) for v in values[:_SHOWN])
    return shown + (", ..." if len(values) > _SHOWN else "")


def _py(v: object) -> object:
    return v.item() if isinstance(v, np.generic) else v


def check_target(y: pd.Series, task: str) -> None:
    """Refuse a target that contradicts ``data.task``.

    ``binary`` needs exactly two classes, ``multiclass`` three or more, classification a
    target without fractional numbers, ``regression`` a numeric target.

    Raises:
        ConfigError: naming ``data.task``, the target column, what it holds and the task
            that would fit.
    """
    kind = choose(Task, task, "data.task")
    name = y.name
    known = y.dropna()
    numeric = pd.api.types.is_numeric_dtype(known) and not pd.api.types.is_bool_dtype(known)
    if kind is Task.regression:
        if not numeric:
            sample = _sample([_py(v) for v in known.unique()])
            raise ConfigError(
                f"data.task: 'regression' needs a numeric target, but column {name!r} holds "
                f"{sample}; use data.task=binary or multiclass"
            )
        return
    classes = [_py(v) for v in known.unique()]
    try:
        classes.sort()  # type: ignore[call-overload]
    except TypeError:  # mixed types
        classes.sort(key=str)
    if numeric and not np.all(np.mod(known.to_numpy(dtype="float64"), 1.0) == 0.0):
        raise ConfigError(
            f"data.task: {str(kind)!r} needs class labels, but column {name!r} holds fractional "
            f"numbers ({len(classes)} distinct, e.g. {_sample(classes)}); use "
            "data.task=regression"
        )
    n = len(classes)
    if kind is Task.binary and n != 2:
        hint = "; use data.task=multiclass" if n > 2 else ""
        raise ConfigError(
            f"data.task: 'binary' needs exactly 2 classes, but column {name!r} has {n} "
            f"({_sample(classes)}){hint}"
        )
    if kind is Task.multiclass and n < 3:
        hint = "; use data.task=binary" if n == 2 else ""
        raise ConfigError(
            f"data.task: 'multiclass' needs 3 or more classes, but column {name!r} has {n} "
            f"({_sample(classes)}){hint}"
        )
