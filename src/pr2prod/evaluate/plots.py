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
    """Plot tables keyed by file stem (``confusion``, ``roc``, ``pr``, ``calibration``).

    Binary: the curves of the positive (last) label against the rest. Multiclass: one curve,
    *correct vs incorrect by top probability*: is the predicted label right, ranked by its
    probability (each row's ``curve`` says which). Undefined points (a split with no errors)
    are left out, never written as NaN.
    """
    plots: dict[str, list[dict]] = {"confusion": _confusion_rows(y, pred)}
    if proba is None:
        return plots
    pos = labels[-1]
    binary = len(labels) == 2
    score = proba[:, -1] if binary else proba.max(axis=1)
    truth = (y == pos) if binary else (pred == y)
    curve = f"{pos} vs rest" if binary else CORRECT_VS_INCORRECT
    plots["roc"] = _thin(_finite(_roc_rows(truth, score), curve), points)
    prec, rec, _ = skm.precision_recall_curve(truth, score)
    rows = [{"recall": float(r), "precision": float(p)} for r, p in zip(rec, prec, strict=True)]
    plots["pr"] = _thin(_finite(rows, curve), points)
    frac, mean_pred = calibration_curve(truth, score, n_bins=bins, strategy="uniform")
    rows = [
        {"predicted": float(m), "observed": float(f)} for m, f in zip(mean_pred, frac, strict=True)
    ]
    plots["calibration"] = _finite(rows, curve)
    return plots


def _confusion_rows(y: np.ndarray, pred: np.ndarray) -> list[dict[str, str]]:
    """``{"actual": str(a), "predicted": str(p)}`` per row. Labels that are integers, booleans
    or text (equal exactly when their text is equal) are turned into text once per distinct
    value, and rows of the same pair share one record, which nothing mutates."""
    y, pred = np.asarray(y), np.asarray(pred)
    if y.dtype.kind not in "biuU" or pred.dtype.kind not in "biuU":
        return [{"actual": str(a), "predicted": str(p)} for a, p in zip(y, pred, strict=True)]
    actual, ia = np.unique(y, return_inverse=True)
    predicted, ip = np.unique(pred, return_inverse=True)
    cells = [
        {"actual": str(a), "predicted": str(p)} for a in actual for p in predicted
    ]  # row-major: cell index = actual index * len(predicted) + predicted index
    codes = ia.reshape(-1) * len(predicted) + ip.reshape(-1)
    return [cells[c] for c in codes.tolist()]


# The multiclass curve: is the top-probability label right, ranked by that probability.
CORRECT_VS_INCORRECT = "correct vs incorrect by top probability (multiclass)"


def _roc_rows(truth: np.ndarray, score: np.ndarray) -> list[dict[str, float]]:
    """ROC points; none when the split holds one outcome only (no errors, or no positives),
    where the curve is undefined (sklearn would give NaN, which is not JSON)."""
    if np.unique(truth).size < 2:
        return []
    fpr, tpr, _ = skm.roc_curve(truth, score)
    return [{"fpr": float(a), "tpr": float(b)} for a, b in zip(fpr, tpr, strict=True)]


def _finite(rows: list[dict[str, float]], curve: str) -> list[dict[str, Any]]:
    """Rows whose values are all finite (valid JSON), each labelled with its ``curve``."""
    return [{**r, "curve": curve} for r in rows if all(np.isfinite(v) for v in r.values())]


# The regression diagnostics' DVC plot definitions (template, x, y). A regression project's
# dvc.yaml lists them (the template's does, a test keeps them equal); this repository's
# dvc.yaml lists only its task's (binary) plots, and the gate draws a regression
# experiment's curves with these.
REGRESSION_PLOTS: dict[str, dict[str, str]] = {
    "pred_actual": {"template": "scatter", "x": "actual", "y": "predicted"},
    "residuals": {"template": "scatter", "x": "predicted", "y": "residual"},
}


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
