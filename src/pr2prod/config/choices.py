"""The closed sets of the data, features, validate and model config groups.

Each is a :class:`enum.StrEnum` used as a field type in :mod:`pr2prod.config.schema`, so
OmegaConf refuses any other value at composition (``pr2prod compose``/``check``) and the
error lists the allowed ones. Members compare, hash and format like their string values, so
code that compares with ``"binary"`` keeps working. Member names must equal their values:
OmegaConf parses and writes (``enum_to_str``) an enum by its name. Whatever leaves the config
for a file or an estimator gets the plain value (:func:`plain`, ``enum_to_str``).
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import TypeVar

from pr2prod.config.errors import ConfigError

E = TypeVar("E", bound=Enum)


class Task(StrEnum):
    """``data.task``: what the target is."""

    binary = "binary"  # two classes
    multiclass = "multiclass"  # three or more classes
    regression = "regression"  # a number


class Source(StrEnum):
    """``data.source``: where the rows come from."""

    sklearn = "sklearn"  # a bundled scikit-learn data set (data.dataset)
    synthetic = "synthetic"  # the seeded generator (data.synthetic)
    file = "file"  # a CSV or Parquet file (data.path)


class SklearnDataset(StrEnum):
    """``data.dataset``: the bundled scikit-learn sets."""

    breast_cancer = "breast_cancer"
    wine = "wine"
    diabetes = "diabetes"
    iris = "iris"


class ColumnType(StrEnum):
    """``data.column_types.<column>``: a declared feature type."""

    numeric = "numeric"
    categorical = "categorical"


class OutOfRange(StrEnum):
    """``validate.out_of_range``: test values outside the training range."""

    warn = "warn"  # reported as warnings; validation passes
    error = "error"  # reported as errors; validation fails
    ignore = "ignore"  # not checked at all


class NumericImputer(StrEnum):
    """``features.numeric_imputer``: scikit-learn ``SimpleImputer`` strategy, or none."""

    median = "median"
    mean = "mean"
    most_frequent = "most_frequent"
    none = "none"


class Scaler(StrEnum):
    """``features.scaler``: scaling of numeric columns."""

    standard = "standard"
    minmax = "minmax"
    robust = "robust"
    none = "none"


class CategoricalImputer(StrEnum):
    """``features.categorical_imputer``: ``SimpleImputer`` strategy for categorical columns."""

    most_frequent = "most_frequent"
    constant = "constant"  # the category "missing"


class ModelKind(StrEnum):
    """``model.tasks`` items: the kinds of task a model option supports."""

    classification = "classification"
    regression = "regression"


class ClassWeight(StrEnum):
    """``model.class_weight`` (null for equal weights)."""

    balanced = "balanced"


def values(choices: type[Enum]) -> tuple[str, ...]:
    """The allowed values of a closed set, in declaration order."""
    return tuple(str(member.value) for member in choices)


def plain(value: object) -> object:
    """``value`` with every enum member replaced by its value (for estimators and files)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(plain(v) for v in value)
    return value


def choose(choices: type[E], value: object, key: str) -> E:
    """``value`` as a member of ``choices``.

    Raises:
        ConfigError: naming ``key`` and the allowed values.
    """
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(values(choices))
        raise ConfigError(f"{key}: {value!r} is not one of {allowed}") from None
