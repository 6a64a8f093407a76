"""Score valid rows with the artifact: one output row per input row, model version included."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pr2prod.batch.resolve import ModelVersion
from pr2prod.batch.validate import ROW_ID
from pr2prod.evaluate.metrics import predict
from pr2prod.models.persist import LoadedModel


def proba_column(label: Any) -> str:
    """Column name for the probability of ``label`` (``proba_<label>``)."""
    return f"proba_{label}"


def prediction_columns(model: LoadedModel) -> list[str]:
    """Output columns in order: row id, model, prediction, one probability per label."""
    probas = []
    if model.schema.task != "regression" and model.schema.labels:
        probas = [proba_column(lab) for lab in model.schema.labels]
    return [ROW_ID, "model_name", "model_version", "prediction", *probas]


def predict_once(pipeline: Any, x: pd.DataFrame, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels and probabilities with the preprocessing run once, not once per method.

    ``Pipeline.predict`` and ``Pipeline.predict_proba`` each transform the input and then call
    the final estimator; transforming once and calling the estimator's two methods on the same
    matrix gives identical results at about half the cost. Anything that is not a plain
    scikit-learn ``Pipeline`` falls back to :func:`pr2prod.evaluate.metrics.predict`.
    """
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) < 2:
        return predict(pipeline, x, task)
    features = pipeline[:-1].transform(x)
    estimator = pipeline.steps[-1][1]
    pred = np.asarray(estimator.predict(features))
    proba = None
    if task != "regression" and hasattr(estimator, "predict_proba"):
        proba = np.asarray(estimator.predict_proba(features), dtype=np.float64)
    return pred, proba


def score_rows(model: LoadedModel, version: ModelVersion, valid: pd.DataFrame) -> pd.DataFrame:
    """Predictions (and class probabilities) for ``valid`` rows, in their order."""
    x = valid[model.schema.feature_names]
    pred, proba = predict_once(model.pipeline, x, model.schema.task)
    out = pd.DataFrame(
        {
            ROW_ID: valid[ROW_ID].to_numpy(),
            "model_name": version.name,
            "model_version": version.version,
            "prediction": _prediction_values(pred, model.schema.task),
        }
    )
    if proba is not None and model.schema.labels:
        classes = list(getattr(model.pipeline, "classes_", model.schema.labels))
        for label in model.schema.labels:
            out[proba_column(label)] = proba[:, classes.index(label)]
    return out


def _prediction_values(pred: np.ndarray, task: str) -> np.ndarray:
    if task == "regression":
        return pred.astype("float64")
    if np.issubdtype(pred.dtype, np.integer):
        return pred.astype("int64")
    return pred
