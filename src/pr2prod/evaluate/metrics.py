"""Metrics per task: classification (overall and per class) and regression."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm


def predict(pipeline: Any, x: pd.DataFrame, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions and, for classifiers that have them, class probabilities.

    A scikit-learn ``Pipeline`` transforms ``x`` once and its final estimator predicts from
    that matrix twice: what ``Pipeline.predict`` and ``Pipeline.predict_proba`` each compute,
    the same values, without transforming the rows a second time.
    """
    from sklearn.pipeline import Pipeline

    estimator = pipeline
    if isinstance(pipeline, Pipeline) and len(pipeline.steps) > 1:
        x = pipeline[:-1].transform(x)
        estimator = pipeline.steps[-1][1]
    pred = np.asarray(estimator.predict(x))
    proba = None
    if task != "regression" and hasattr(estimator, "predict_proba"):
        proba = np.asarray(estimator.predict_proba(x), dtype=np.float64)
    return pred, proba


def classification_metrics(
    y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, labels: list[Any]
) -> dict[str, Any]:
    """Accuracy, F1, ROC-AUC, log-loss, and precision/recall/F1 per class."""
    average = "binary" if len(labels) == 2 else "macro"
    out: dict[str, Any] = {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, pred)),
        "f1": float(
            skm.f1_score(y, pred, average=average, pos_label=labels[-1])
            if average == "binary"
            else skm.f1_score(y, pred, average="macro")
        ),
    }
    if proba is not None:
        clipped = np.clip(proba, 1e-15, 1 - 1e-15)
        out["log_loss"] = float(skm.log_loss(y, clipped, labels=labels))
        if len(labels) == 2:
            out["roc_auc"] = float(skm.roc_auc_score(y, proba[:, 1]))
        else:
            out["roc_auc"] = float(skm.roc_auc_score(y, proba, multi_class="ovr", labels=labels))
    # rates only: a class's support is a row count, not a metric (it would be a column of
    # `dvc exp show` and a line of `dvc metrics diff` that no model changes)
    p, r, f, _ = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    out["per_class"] = {
        str(lab): {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i])}
        for i, lab in enumerate(labels)
    }
    return out


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """RMSE, MAE and R²."""
    return {
        "rmse": float(np.sqrt(skm.mean_squared_error(y, pred))),
        "mae": float(skm.mean_absolute_error(y, pred)),
        "r2": float(skm.r2_score(y, pred)),
    }
