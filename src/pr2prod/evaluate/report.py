"""Evaluate a loaded artifact: metrics plus plots tables."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pr2prod.config.schema import EvaluateConfig
from pr2prod.evaluate.metrics import classification_metrics, predict, regression_metrics
from pr2prod.evaluate.plots import classification_plots, regression_plots
from pr2prod.models.persist import LoadedModel


def evaluate_model(
    model: LoadedModel, test: pd.DataFrame, cfg: EvaluateConfig
) -> tuple[dict[str, Any], dict[str, list[dict]]]:
    """Metrics and plots of ``model`` on the labelled ``test`` split."""
    schema = model.schema
    y = test[schema.target].to_numpy()
    pred, proba = predict(model.pipeline, test[schema.feature_names], schema.task)
    if schema.task == "regression":
        return regression_metrics(y, pred), regression_plots(y, pred)
    labels = list(schema.labels or [])
    metrics = classification_metrics(y, pred, proba, labels)
    plots = classification_plots(y, pred, proba, labels, cfg.calibration_bins, cfg.curve_points)
    return metrics, plots
