"""Build the whole model pipeline (preprocessing + estimator) from typed config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.feature_selection import SelectKBest, f_classif, f_regression
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MinMaxScaler,
    OneHotEncoder,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)

from pr2prod.config.choices import NumericImputer, values
from pr2prod.config.errors import ConfigError
from pr2prod.config.loader import model_params
from pr2prod.config.schema import FeaturesConfig
from pr2prod.config.targets import RESERVED_MODEL_KEYS, check_targets
from pr2prod.data.schema import DataSchema

SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}
IMPUTERS = values(NumericImputer)


def build_estimator(
    model: Any,
    allowed: Sequence[str] | None = None,
    allowed_callables: Sequence[str] | None = None,
) -> Any:
    """Instantiate the estimator from its config after every ``_target_`` in it is checked.

    Each target must pass the trust policy (``allowed``/``allowed_callables``; ``None``: the
    project's, from ``pyproject.toml [tool.pr2prod]``) and its registered schema.

    Raises:
        ConfigError: a refused ``_target_`` (see :mod:`pr2prod.config.targets`), before
            anything it names is called; or an estimator that cannot be built.
    """
    from hydra.utils import instantiate

    params = {k: v for k, v in model_params(model).items() if k not in RESERVED_MODEL_KEYS}
    check_targets(params, allowed, allowed_callables, path="model")
    try:
        return instantiate(params, _convert_="all")
    except Exception as exc:  # hydra wraps import and signature errors alike
        raise ConfigError(f"model: cannot instantiate {params.get('_target_')}: {exc}") from exc


def build_preprocessor(cfg: FeaturesConfig, schema: DataSchema, task: str) -> list[tuple[str, Any]]:
    """Preprocessing steps: column-wise imputation/scaling/one-hot, then optional extras."""
    if cfg.numeric_imputer not in IMPUTERS:
        raise ConfigError(
            f"features.numeric_imputer: {cfg.numeric_imputer!r} is not one of {', '.join(IMPUTERS)}"
        )
    if cfg.scaler not in (*SCALERS, "none"):
        raise ConfigError(
            f"features.scaler: {cfg.scaler!r} is not one of {', '.join((*SCALERS, 'none'))}"
        )
    # plain strings from here on: the fitted pipeline is saved, an enum member must not be
    numeric_imputer, scaler = str(cfg.numeric_imputer), str(cfg.scaler)
    num_steps: list[tuple[str, Any]] = []
    if numeric_imputer != "none":
        num_steps.append(("impute", SimpleImputer(strategy=numeric_imputer)))
    if scaler != "none":
        num_steps.append(("scale", SCALERS[scaler]()))
    transformers: list[tuple[str, Any, list[str]]] = []
    if schema.numeric:
        transformers.append(
            ("num", Pipeline(num_steps) if num_steps else "passthrough", schema.numeric)
        )
    if schema.categorical:
        cat_steps: list[tuple[str, Any]] = [
            (
                "impute",
                SimpleImputer(strategy=str(cfg.categorical_imputer), fill_value="missing"),
            )
        ]
        if cfg.one_hot:
            cat_steps.append(
                (
                    "onehot",
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist" if cfg.max_categories else "ignore",
                        max_categories=cfg.max_categories,
                        sparse_output=False,
                    ),
                )
            )
        transformers.append(("cat", Pipeline(cat_steps), schema.categorical))
    steps: list[tuple[str, Any]] = [
        (
            "columns",
            ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False),
        )
    ]
    if cfg.polynomial_degree > 1:
        steps.append(("poly", PolynomialFeatures(cfg.polynomial_degree, include_bias=False)))
    if cfg.select_k_best:
        score = f_regression if task == "regression" else f_classif
        steps.append(("select", SelectKBest(score, k=cfg.select_k_best)))
    return steps


def build_pipeline(
    features: FeaturesConfig,
    model: Any,
    schema: DataSchema,
    allowed: Sequence[str] | None = None,
    allowed_callables: Sequence[str] | None = None,
) -> Pipeline:
    """The one object that is trained, gated, served and monitored."""
    check_targets(features, allowed, allowed_callables, path="features")
    steps = build_preprocessor(features, schema, schema.task)
    steps.append(("model", build_estimator(model, allowed, allowed_callables)))
    return Pipeline(steps)
