"""DVC plots data: confusion matrix, ROC/PR curves, calibration; regression diagnostics."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve


def _thin(rows: list[dict[str, float]], n: int) -> list[dict[str, float]]:
    if len(rows) <= n:
        return rows
    idx = np.unique(np.linspace(0, len(rows) - 1, n).round().astype(int))
    return [rows[i] for i in idx]


def classification_plots(
    y: np.ndarray,
    pred: np.ndarray,
    proba: np.ndarray | None,
    labels: list[Any],
    bins: int,
    points: int,
) -> dict[str, list[dict]]:
    """Plot tables keyed by file stem (``confusion``, ``roc``, ``pr``, ``calibration``)."""
    plots: dict[str, list[dict]] = {
        "confusion": [{"actual": str(a), "predicted": str(p)} for a, p in zip(y, pred, strict=True)]
    }
    if proba is None:
        return plots
    pos = labels[-1]
    score = proba[:, -1] if len(labels) == 2 else proba.max(axis=1)
    truth = (y == pos) if len(labels) == 2 else (pred == y)
    fpr, tpr, _ = skm.roc_curve(truth, score)
    plots["roc"] = _thin(
        [{"fpr": float(a), "tpr": float(b)} for a, b in zip(fpr, tpr, strict=True)], points
    )
    prec, rec, _ = skm.precision_recall_curve(truth, score)
    plots["pr"] = _thin(
        [{"recall": float(r), "precision": float(p)} for r, p in zip(rec, prec, strict=True)],
        points,
    )
    frac, mean_pred = calibration_curve(truth, score, n_bins=bins, strategy="uniform")
    plots["calibration"] = [
        {"predicted": float(m), "observed": float(f)} for m, f in zip(mean_pred, frac, strict=True)
    ]
    return plots


def regression_plots(y: np.ndarray, pred: np.ndarray) -> dict[str, list[dict]]:
    """``pred_actual`` and ``residuals`` tables."""
    return {
        "pred_actual": [
            {"actual": float(a), "predicted": float(p)} for a, p in zip(y, pred, strict=True)
        ],
        "residuals": [
            {"predicted": float(p), "residual": float(a - p)} for a, p in zip(y, pred, strict=True)
        ],
    }
