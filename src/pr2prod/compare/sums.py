"""Per-unit sufficient statistics of a paired prediction set.

Every gated metric is a function of sums over rows (confusion counts, squared errors,
log-losses, ROC placements). Rows are grouped into *units* (one row each, or random
equal-sized groups of rows when there are many); the gate keeps one sum per unit, so the
bootstrap resamples units with a matrix product instead of touching rows again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

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


def placements(score: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """DeLong placement of each row: for a positive, the share of negatives scored below it;
    for a negative, the share of positives scored above it (ties count one half).

    The mean placement over positives (or negatives) is the exact ROC AUC. One sort, then
    cumulative counts per group of tied scores.
    """
    n = len(score)
    order = np.argsort(score, kind="stable")
    s, pos = score[order], positive[order]
    start = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    group = np.cumsum(np.r_[True, s[1:] != s[:-1]]) - 1
    end = np.r_[start[1:], n]
    cum_pos, cum_neg = np.r_[0, np.cumsum(pos)], np.r_[0, np.cumsum(~pos)]
    n_pos, n_neg = cum_pos[-1], cum_neg[-1]
    neg_below, neg_tied = cum_neg[start], cum_neg[end] - cum_neg[start]
    pos_above, pos_tied = n_pos - cum_pos[end], cum_pos[end] - cum_pos[start]
    sorted_v = np.where(
        pos,
        (neg_below[group] + 0.5 * neg_tied[group]) / max(n_neg, 1),
        (pos_above[group] + 0.5 * pos_tied[group]) / max(n_pos, 1),
    )
    out = np.empty(n)
    out[order] = sorted_v
    return out


def _auc_sums(
    units: np.ndarray, n_units: int, proba: np.ndarray, y: np.ndarray, n_classes: int
) -> np.ndarray:
    """Per unit and one-vs-rest class: (positives' placements, positives, negatives'
    placements, negatives), shape ``(n_units, classes, 4)``."""
    classes = [1] if n_classes == 2 else list(range(n_classes))
    out = np.zeros((n_units, len(classes), 4))
    for i, k in enumerate(classes):
        pos = y == k
        v = placements(proba[:, k], pos)
        for j, values in enumerate((v * pos, pos, v * ~pos, ~pos)):
            out[:, i, j] = _per_unit(units, n_units, values.astype(np.float64))
    return out


def unit_sums(
    p: Paired, units: np.ndarray, n_units: int, metrics: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """Sufficient statistics per unit, each of shape ``(n_units, ...)``.

    ``metrics`` limits the probability-based statistics to what those metrics need
    (None: everything); confusion cells are always kept (flip rate, per-class changes).
    """
    wanted = set(metrics) if metrics is not None else {"log_loss", "roc_auc"}
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
        if "log_loss" in wanted:
            picked = np.clip(proba[np.arange(p.n), p.y], 1e-15, 1 - 1e-15)
            s[f"ll_{side}"] = _per_unit(units, n_units, -np.log(picked))
        if "roc_auc" in wanted:
            s[f"auc_{side}"] = _auc_sums(units, n_units, proba, p.y, k)
    return s


def total(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sums over all units, with a leading axis of length 1 (the point estimate)."""
    return {name: arr.sum(axis=0)[None] for name, arr in sums.items()}
