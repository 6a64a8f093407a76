"""Per-unit sufficient statistics of a paired prediction set.

Every gated metric is a function of sums over rows (confusion counts, squared errors,
log-losses, score histograms). Rows are grouped into *units* (one row each, or random
equal-sized groups of rows when there are many); the gate keeps one sum per unit, so the
bootstrap resamples units with a matrix product instead of touching rows again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AUC_BINS = 1024
Sums = dict[str, np.ndarray]


@dataclass
class Paired:
    """Both models' predictions on the same rows, labels encoded as class indices."""

    task: str
    y: np.ndarray
    pred_c: np.ndarray
    pred_b: np.ndarray
    proba_c: np.ndarray | None = None
    proba_b: np.ndarray | None = None
    n_classes: int = 0

    @property
    def n(self) -> int:
        return len(self.y)

    def subset(self, mask: np.ndarray) -> Paired:
        """The same pairing restricted to the rows in ``mask``."""
        pick = lambda a: None if a is None else a[mask]  # noqa: E731
        return Paired(
            self.task,
            self.y[mask],
            self.pred_c[mask],
            self.pred_b[mask],
            pick(self.proba_c),
            pick(self.proba_b),
            self.n_classes,
        )


def assign_units(n: int, max_units: int, seed: int) -> np.ndarray:
    """Unit of each row: the row itself, or one of ``max_units`` random equal groups."""
    if n <= max_units:
        return np.arange(n, dtype=np.int64)
    perm = np.random.default_rng(seed).permutation(n)
    return perm % max_units


def _per_unit(units: np.ndarray, n_units: int, values: np.ndarray) -> np.ndarray:
    return np.bincount(units, weights=values, minlength=n_units)


def _per_unit_cells(units: np.ndarray, n_units: int, cell: np.ndarray, n_cells: int) -> np.ndarray:
    flat = np.bincount(units * n_cells + cell, minlength=n_units * n_cells)
    return flat.reshape(n_units, n_cells).astype(np.float64)


def auc_bins(score: np.ndarray, n_bins: int = AUC_BINS) -> np.ndarray:
    """Bin index of each score: exact ranks when scores are few, else quantile bins."""
    uniq = np.unique(score)
    if len(uniq) <= n_bins:
        return np.searchsorted(uniq, score)
    edges = np.unique(np.quantile(score, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.searchsorted(edges, score, side="right")


def _auc_hist(
    units: np.ndarray, n_units: int, proba: np.ndarray, y: np.ndarray, n_classes: int
) -> np.ndarray:
    """Per unit, per one-vs-rest class, per score bin: counts of (negative, positive)."""
    classes = [1] if n_classes == 2 else list(range(n_classes))
    out = np.zeros((n_units, len(classes), AUC_BINS + 1, 2))
    for i, k in enumerate(classes):
        cell = auc_bins(proba[:, k]) * 2 + (y == k)
        out[:, i] = _per_unit_cells(units, n_units, cell, (AUC_BINS + 1) * 2).reshape(
            n_units, AUC_BINS + 1, 2
        )
    return out


def unit_sums(p: Paired, units: np.ndarray, n_units: int) -> dict[str, np.ndarray]:
    """Sufficient statistics per unit, each of shape ``(n_units, ...)``."""
    s: dict[str, np.ndarray] = {"n": _per_unit(units, n_units, np.ones(p.n))}
    if p.task == "regression":
        y = p.y.astype(np.float64)
        ec, eb = p.pred_c - y, p.pred_b - y
        s.update(
            y=_per_unit(units, n_units, y),
            y2=_per_unit(units, n_units, y * y),
            se_c=_per_unit(units, n_units, ec * ec),
            se_b=_per_unit(units, n_units, eb * eb),
            ae_c=_per_unit(units, n_units, np.abs(ec)),
            ae_b=_per_unit(units, n_units, np.abs(eb)),
            change=_per_unit(units, n_units, np.abs(p.pred_c - p.pred_b)),
        )
        return s
    k = p.n_classes
    cell = (p.y * k + p.pred_c) * k + p.pred_b
    s["cells"] = _per_unit_cells(units, n_units, cell, k**3).reshape(n_units, k, k, k)
    for side, proba in (("c", p.proba_c), ("b", p.proba_b)):
        if proba is None:
            continue
        picked = np.clip(proba[np.arange(p.n), p.y], 1e-15, 1 - 1e-15)
        s[f"ll_{side}"] = _per_unit(units, n_units, -np.log(picked))
        s[f"auc_{side}"] = _auc_hist(units, n_units, proba, p.y, k)
    return s


def total(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sums over all units, with a leading axis of length 1 (the point estimate)."""
    return {name: arr.sum(axis=0)[None] for name, arr in sums.items()}
