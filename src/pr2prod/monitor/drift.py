"""Drift of one column against the training reference statistics stored in ``schema.json``.

Numeric: PSI over the reference histogram bins (outer bins open-ended) and a KS test against
the reference CDF rebuilt from the stored histogram edges and quantiles. Categorical: PSI over
the reference categories and a chi-square test of homogeneity (reference counts = frequency ×
reference size). A column drifts when PSI reaches its threshold, or when the test is
significant *and* its effect (KS D, Cramér's V) is at least ``min_effect`` — huge windows make
every negligible shift significant, so significance alone never flags.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats as st

from pr2prod.config.monitor_schema import DriftConfig

EPS = 1e-4
UNSEEN = "(unseen)"


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins."""
    e = np.clip(expected / max(expected.sum(), 1), EPS, None)
    a = np.clip(actual / max(actual.sum(), 1), EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def reference_cdf(ref: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Knots (x, F(x)) of the reference CDF from histogram edges and quantiles."""
    edges = np.asarray(ref["histogram"]["edges"], dtype=float)
    counts = np.asarray(ref["histogram"]["counts"], dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(counts) / max(counts.sum(), 1)])
    qs = ref.get("quantiles", {})
    x = np.concatenate([edges, np.asarray(list(qs.values()), dtype=float)])
    y = np.concatenate([cum, np.asarray([float(k) for k in qs], dtype=float)])
    order = np.lexsort((y, x))
    x, y = x[order], np.maximum.accumulate(y[order])
    keep = np.append(x[1:] != x[:-1], True)
    return x[keep], y[keep]


def numeric_drift(values: np.ndarray, ref: dict[str, Any], cfg: DriftConfig) -> dict[str, Any]:
    """PSI and KS of ``values`` against a numeric feature's reference statistics."""
    v = np.sort(values[np.isfinite(values)])
    n, m = v.size, int(ref.get("count", 0))
    if n == 0 or m == 0 or "histogram" not in ref:
        return {"evaluated": False, "reason": "no values" if n == 0 else "no reference"}
    edges = np.asarray(ref["histogram"]["edges"], dtype=float)
    ref_counts = np.asarray(ref["histogram"]["counts"], dtype=float)
    bins = np.searchsorted(edges[1:-1], v, side="right")
    cur_counts = np.bincount(bins, minlength=ref_counts.size).astype(float)
    x, y = reference_cdf(ref)
    cdf = np.interp(v, x, y, left=0.0, right=1.0)
    i = np.arange(1, n + 1)
    d = float(max(np.max(i / n - cdf), np.max(cdf - (i - 1) / n)))
    n_eff = max(1, round(n * m / (n + m)))
    p = float(st.kstwo.sf(d, n_eff))
    out = {
        "test": "ks",
        "statistic": d,
        "p_value": p,
        "effect": d,
        "psi": psi(ref_counts, cur_counts),
        "mean": float(v.mean()),
        "reference_mean": ref.get("mean"),
    }
    return _verdict(out, cfg)


def categorical_drift(values: np.ndarray, ref: dict[str, Any], cfg: DriftConfig) -> dict[str, Any]:
    """PSI and chi-square of category ``values`` against reference frequencies."""
    freq: dict[str, float] = ref.get("frequencies", {})
    cats, counts = np.unique(np.asarray([str(v) for v in values], dtype=object), return_counts=True)
    n, m = int(counts.sum()), int(ref.get("count", 0))
    if n == 0 or m == 0 or not freq:
        return {"evaluated": False, "reason": "no values" if n == 0 else "no reference"}
    current = dict(zip(cats.tolist(), counts.tolist(), strict=True))
    unseen = sum(c for k, c in current.items() if k not in freq)
    keys = sorted(freq) + ([UNSEEN] if unseen else [])
    cur = np.array([current.get(k, 0) if k != UNSEEN else unseen for k in keys], dtype=float)
    ref_counts = np.array([freq.get(k, 0.0) * m for k in keys], dtype=float)
    table = np.vstack([ref_counts, cur])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        chi2, p = 0.0, 1.0
    else:
        chi2, p, _, _ = st.chi2_contingency(table, correction=False)
    out = {
        "test": "chi2",
        "statistic": float(chi2),
        "p_value": float(p),
        "effect": float(np.sqrt(chi2 / table.sum())),
        "psi": psi(ref_counts, cur),
        "unseen_share": unseen / n,
        "frequencies": {k: float(c / n) for k, c in zip(keys, cur, strict=True)},
    }
    return _verdict(out, cfg)


def _verdict(out: dict[str, Any], cfg: DriftConfig) -> dict[str, Any]:
    reasons = []
    if out["psi"] >= cfg.psi_threshold:
        reasons.append(f"PSI {out['psi']:.3f} >= {cfg.psi_threshold}")
    if out["p_value"] < cfg.p_value and out["effect"] >= cfg.min_effect:
        reasons.append(
            f"{out['test']} p={out['p_value']:.2g} < {cfg.p_value} with effect "
            f"{out['effect']:.3f} >= {cfg.min_effect}"
        )
    return {**out, "evaluated": True, "drifted": bool(reasons), "reasons": reasons}
