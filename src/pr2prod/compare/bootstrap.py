"""Paired bootstrap over units: every resample at once, as one matrix product.

A resample draws ``n_units`` units with replacement; its sums are ``counts @ unit_sums``.
Both models' statistics live in the same unit sums, so every resample scores the two
models on identical rows (a *paired* bootstrap) and the interval is that of the difference.
"""

from __future__ import annotations

import numpy as np

from pr2prod.compare.sums import Sums


def resample_counts(n_units: int, resamples: int, seed: int) -> np.ndarray:
    """``(resamples, n_units)`` multiplicities of each unit in each resample."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_units, size=(resamples, n_units))
    offsets = np.arange(resamples, dtype=np.int64)[:, None] * n_units
    flat = np.bincount((draws + offsets).ravel(), minlength=resamples * n_units)
    return flat.reshape(resamples, n_units).astype(np.float64)


def resampled(sums: Sums, counts: np.ndarray) -> Sums:
    """Sums of every resample, each of shape ``(resamples, ...)``."""
    out = {}
    for name, arr in sums.items():
        flat = arr.reshape(arr.shape[0], -1)
        out[name] = (counts @ flat).reshape((counts.shape[0], *arr.shape[1:]))
    return out


def interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    """Two-sided percentile interval of bootstrap ``samples`` (NaNs ignored)."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(finite, [tail, 100.0 - tail])
    return float(lo), float(hi)
