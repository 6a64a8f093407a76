"""Fit the configured pipeline on the training split (seeded, progress shown)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.utils._param_validation import InvalidParameterError

from pr2prod.config.errors import ConfigError
from pr2prod.config.schema import Config
from pr2prod.data.schema import DataSchema
from pr2prod.models.build import build_pipeline
from pr2prod.models.seed import seed_everything


def fit_pipeline(
    cfg: Config, schema: DataSchema, train: pd.DataFrame, live_dir: str | None = None
) -> Any:
    """Seed everything, build the pipeline from config and fit it."""
    pipeline = build_pipeline(
        cfg.features, cfg.model, schema, cfg.allowed_targets, cfg.allowed_callables
    )
    seed_everything(cfg.seed)  # after building: a torch model has imported torch by now
    estimator = pipeline.steps[-1][1]
    if hasattr(estimator, "live_dir"):
        estimator.live_dir = live_dir
    try:
        pipeline.fit(train[schema.feature_names], train[schema.target])
    except InvalidParameterError as exc:
        # scikit-learn validates hyperparameters at fit time; name the config key instead
        raise ConfigError(f"model: {exc}") from exc
    return pipeline
