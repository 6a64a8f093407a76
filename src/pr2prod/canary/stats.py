"""Two-sample (unpaired) confidence bounds of canary minus production.

The variants answer different requests, so unlike the gate (one test split scored by both
models, a paired bootstrap) the samples are independent. Each function returns the
one-sided bounds at ``level`` of the canary's *improvement* over production: accuracy
(canary - production) for a classifier, MAE (production - canary) for a regressor, so a
positive value always means "the canary is better" (docs/continuous.md, "Canary report").

- accuracy: Newcombe's hybrid score interval for a difference of two proportions
  (Newcombe 1998, method 10): each proportion's Wilson score bounds, combined.
- MAE: Welch's t interval for a difference of two means of absolute errors
  (unequal variances, Welch-Satterthwaite degrees of freedom).

A one-sided bound at ``level`` is the matching end of the two-sided interval at
``2 * level - 1`` (the 90% interval's ends are the 95% one-sided bounds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sst


@dataclass(frozen=True)
class Bounds:
    """Point estimate and one-sided bounds of the canary's improvement over production."""

    estimate: float
    lower: float
    upper: float


def _z(level: float) -> float:
    if not 0.5 < level < 1.0:
        raise ValueError(f"canary.level: {level!r} must lie strictly between 0.5 and 1")
    return float(sst.norm.ppf(level))


def wilson(successes: int, n: int, level: float) -> tuple[float, float]:
    """One-sided Wilson score bounds (lower, upper) of a proportion at ``level``."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"wilson: need 0 <= successes <= n and n > 0, got {successes}/{n}")
    z = _z(level)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(canary_hits: int, canary_n: int, prod_hits: int, prod_n: int, level: float) -> Bounds:
    """Bounds of accuracy(canary) - accuracy(production), Newcombe's hybrid score method."""
    p1, p2 = canary_hits / canary_n, prod_hits / prod_n
    l1, u1 = wilson(canary_hits, canary_n, level)
    l2, u2 = wilson(prod_hits, prod_n, level)
    d = p1 - p2
    return Bounds(
        estimate=d,
        lower=d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        upper=d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def welch_mae(
    canary_abs_errors: Sequence[float], prod_abs_errors: Sequence[float], level: float
) -> Bounds:
    """Bounds of MAE(production) - MAE(canary), Welch's t interval (needs 2+ rows a side)."""
    nc, np_ = len(canary_abs_errors), len(prod_abs_errors)
    if nc < 2 or np_ < 2:
        raise ValueError(f"welch_mae: need 2 or more rows per variant, got {nc} and {np_}")
    mc, mp = _mean(canary_abs_errors), _mean(prod_abs_errors)
    vc, vp = _var(canary_abs_errors, mc) / nc, _var(prod_abs_errors, mp) / np_
    d = mp - mc
    se = math.sqrt(vc + vp)
    if se == 0.0:
        return Bounds(d, d, d)
    df = (vc + vp) ** 2 / (vc**2 / (nc - 1) + vp**2 / (np_ - 1))
    half = float(sst.t.ppf(level, df)) * se
    return Bounds(d, d - half, d + half)


def _mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs)


def _var(xs: Sequence[float], mean: float) -> float:
    return math.fsum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
