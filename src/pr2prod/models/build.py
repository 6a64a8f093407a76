"""Build the whole model pipeline (preprocessing + estimator) from typed config."""

from __future__ import annotations

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
from pr2prod.data.schema import DataSchema

SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}
IMPUTERS = values(NumericImputer)
RESERVED_MODEL_KEYS = ("name", "tasks")


def check_targets(node: Any, allowed: list[str], path: str = "model") -> None:
    """Refuse any ``_target_`` (at any depth) outside the allow-listed prefixes.

    Raises:
        ConfigError: naming the key, the target and the allowed prefixes.
    """
    if isinstance(node, dict):
        target = node.get("_target_")
        if target is not None and not any(str(target).startswith(p) for p in allowed):
            raise ConfigError(
                f"{path}._target_: {target!r} is not allowed; allowed prefixes: "
                f"{', '.join(allowed)} (extend `allowed_targets` in conf/config.yaml)"
            )
        for key, value in node.items():
            check_targets(value, allowed, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            check_targets(value, allowed, f"{path}[{i}]")


def build_estimator(model: Any, allowed: list[str]) -> Any:
    """Instantiate the estimator from its config after the allow-list check."""
    from hydra.utils import instantiate

    params = {k: v for k, v in model_params(model).items() if k not in RESERVED_MODEL_KEYS}
    check_targets(params, allowed)
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
    features: FeaturesConfig, model: Any, schema: DataSchema, allowed: list[str]
) -> Pipeline:
    """The one object that is trained, gated, served and monitored."""
    steps = build_preprocessor(features, schema, schema.task)
    steps.append(("model", build_estimator(model, allowed)))
    return Pipeline(steps)
