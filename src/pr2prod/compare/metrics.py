"""Gated metrics as functions of summed statistics (see :mod:`pr2prod.compare.sums`).

Each function takes the sums with a leading resample axis ``R`` and a side (``"c"``
candidate, ``"b"`` baseline) and returns an array of shape ``(R,)``. The same functions
give the point estimate (``R = 1``) and every bootstrap resample, so intervals and values
can never disagree about what a metric means. Definitions follow scikit-learn's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pr2prod.compare.sums import Sums

CLASSIFICATION = ("binary", "multiclass")


def confusion(s: Sums, side: str) -> np.ndarray:
    """``(R, K, K)`` confusion counts (rows: true class, columns: predicted) of one side."""
    cells = s["cells"]  # (R, true, pred_c, pred_b)
    return cells.sum(axis=3) if side == "c" else cells.sum(axis=2)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def per_class(s: Sums, side: str) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support per class, each ``(R, K)``."""
    m = confusion(s, side)
    tp = np.diagonal(m, axis1=1, axis2=2)
    actual, predicted = m.sum(axis=2), m.sum(axis=1)
    return {
        "precision": _div(tp, predicted),
        "recall": _div(tp, actual),
        "f1": _div(2 * tp, actual + predicted),
        "support": actual,
    }


def _averaged(kind: str) -> Callable[[Sums, str], np.ndarray]:
    def fn(s: Sums, side: str) -> np.ndarray:
        values = per_class(s, side)[kind]
        return values[:, -1] if values.shape[1] == 2 else values.mean(axis=1)

    return fn


def accuracy(s: Sums, side: str) -> np.ndarray:
    m = confusion(s, side)
    return _div(np.trace(m, axis1=1, axis2=2), m.sum(axis=(1, 2)))


def balanced_accuracy(s: Sums, side: str) -> np.ndarray:
    pc = per_class(s, side)
    present = pc["support"] > 0
    return _div((pc["recall"] * present).sum(axis=1), present.sum(axis=1))


def log_loss(s: Sums, side: str) -> np.ndarray:
    return _div(s[f"ll_{side}"], s["n"])


def roc_auc(s: Sums, side: str) -> np.ndarray:
    """Linearised one-vs-rest ROC AUC (macro over classes), for the bootstrap.

    Returns the positives' plus the negatives' mean DeLong placement: each mean equals the
    AUC on the full rows, and their resampled sum minus the AUC is DeLong's first-order
    expansion of the resampled AUC. Use :func:`auc_point` for the value itself; checks
    shift the bootstrap differences by the point difference. NaN when a class is absent.
    """
    h = s[f"auc_{side}"]  # (R, classes, 4): placements+ , positives, placements-, negatives
    with np.errstate(divide="ignore", invalid="ignore"):
        value = h[..., 0] / h[..., 1] + h[..., 2] / h[..., 3]
    return value.mean(axis=-1)


def auc_point(s: Sums, side: str) -> np.ndarray:
    """Exact ROC AUC (one-vs-rest macro) from the summed placements; NaN if a class is absent."""
    h = s[f"auc_{side}"]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(h[..., 3] > 0, h[..., 0] / h[..., 1], np.nan)
    return value.mean(axis=-1)


def rmse(s: Sums, side: str) -> np.ndarray:
    return np.sqrt(_div(s[f"se_{side}"], s["n"]))


def mae(s: Sums, side: str) -> np.ndarray:
    return _div(s[f"ae_{side}"], s["n"])


def r2(s: Sums, side: str) -> np.ndarray:
    sst = s["y2"] - _div(s["y"] ** 2, s["n"])
    return 1.0 - _div(s[f"se_{side}"], sst)


@dataclass(frozen=True)
class MetricSpec:
    """A gateable metric: which tasks it applies to and its natural direction."""

    name: str
    tasks: tuple[str, ...]
    direction: str
    fn: Callable[[Sums, str], np.ndarray]
    needs_proba: bool = False


METRICS: dict[str, MetricSpec] = {
    m.name: m
    for m in (
        MetricSpec("accuracy", CLASSIFICATION, "higher", accuracy),
        MetricSpec("balanced_accuracy", CLASSIFICATION, "higher", balanced_accuracy),
        MetricSpec("f1", CLASSIFICATION, "higher", _averaged("f1")),
        MetricSpec("precision", CLASSIFICATION, "higher", _averaged("precision")),
        MetricSpec("recall", CLASSIFICATION, "higher", _averaged("recall")),
        MetricSpec("roc_auc", CLASSIFICATION, "higher", roc_auc, needs_proba=True),
        MetricSpec("log_loss", CLASSIFICATION, "lower", log_loss, needs_proba=True),
        MetricSpec("rmse", ("regression",), "lower", rmse),
        MetricSpec("mae", ("regression",), "lower", mae),
        MetricSpec("r2", ("regression",), "higher", r2),
    )
}


def skip_reason(name: str, task: str, has_proba: bool) -> str | None:
    """Why metric ``name`` cannot be gated for this task (None when it can)."""
    spec = METRICS.get(name)
    if spec is None:
        return f"unknown metric (known: {', '.join(METRICS)})"
    if task not in spec.tasks:
        return f"not a {task} metric"
    if spec.needs_proba and not has_proba:
        return "the models give no class probabilities"
    return None


def flip_rate(s: Sums) -> np.ndarray:
    """Share of rows whose predicted class differs between the two models, ``(R,)``."""
    cells = s["cells"]
    same = np.diagonal(cells, axis1=2, axis2=3).sum(axis=(1, 2))
    return 1.0 - _div(same, cells.sum(axis=(1, 2, 3)))


def mean_abs_change(s: Sums) -> np.ndarray:
    """Mean absolute difference between the two models' predictions, ``(R,)``."""
    return _div(s["change"], s["n"])
