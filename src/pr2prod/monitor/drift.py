"""Drift of one column against the training reference statistics stored in ``schema.json``.

Each test fits the column (``numeric_kind`` decides for a numeric feature):

- **categorical**: PSI over the reference categories and a chi-square test of homogeneity
  (reference counts = frequency × reference size); values never seen in training are one
  extra ``(unseen)`` category.
- **discrete** numeric (the training reference holds at most ``drift.discrete_max_values``
  distinct values, e.g. a ``year`` or a 0/1 flag): the same as categorical, over the
  reference values (``stats["values"]``).
- **continuous** numeric: PSI over the reference histogram bins (outer bins open-ended) and a
  two-sample KS statistic. When the reference stores its values (at most
  ``schema.MAX_STORED_VALUES`` distinct), KS compares the window with the exact reference
  step CDF, so ties cost nothing; otherwise with the CDF rebuilt from the stored histogram
  edges and quantiles. A reference written before ``distinct`` was stored falls back to a
  chi-square over the histogram bins (exact under ties) when the window holds at most
  ``discrete_max_values`` distinct values.

A column drifts when PSI reaches its threshold, or when the test is significant *and* its
effect (KS D, Cohen's w) is at least ``min_effect`` — huge windows make every negligible
shift significant, so significance alone never flags.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats as st

from pr2prod.config.monitor_schema import DriftConfig
from pr2prod.data.schema import MAX_STORED_VALUES, value_key

EPS = 1e-4
UNSEEN = "(unseen)"


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins."""
    e = np.clip(expected / max(expected.sum(), 1), EPS, None)
    a = np.clip(actual / max(actual.sum(), 1), EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def check_discrete_max_values(cfg: DriftConfig) -> None:
    """Raise ``ValueError`` naming the key unless 0 <= discrete_max_values <= the stored cap."""
    k = cfg.discrete_max_values
    if not 0 <= k <= MAX_STORED_VALUES:
        raise ValueError(
            f"monitor.drift.discrete_max_values: {k} is not in 0..{MAX_STORED_VALUES} "
            f"(schema.json stores the values of features with at most {MAX_STORED_VALUES})"
        )


def numeric_kind(ref: dict[str, Any], cfg: DriftConfig) -> str:
    """``discrete`` when the training reference has at most ``discrete_max_values`` distinct
    values (and stores them), else ``continuous``."""
    distinct = ref.get("distinct")
    if distinct is not None and "values" in ref and distinct <= cfg.discrete_max_values:
        return "discrete"
    return "continuous"


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
    """Drift of numeric ``values`` against a numeric column's reference statistics."""
    v = np.sort(values[np.isfinite(values)])
    n, m = v.size, int(ref.get("count", 0))
    if n == 0 or m == 0 or "histogram" not in ref:
        return {"evaluated": False, "reason": "no values" if n == 0 else "no reference"}
    if numeric_kind(ref, cfg) == "discrete":
        return discrete_drift(v, ref, cfg)
    edges = np.asarray(ref["histogram"]["edges"], dtype=float)
    ref_counts = np.asarray(ref["histogram"]["counts"], dtype=float)
    bins = np.searchsorted(edges[1:-1], v, side="right")
    cur_counts = np.bincount(bins, minlength=ref_counts.size).astype(float)
    common: dict[str, Any] = {
        "psi": psi(ref_counts, cur_counts),
        "mean": float(v.mean()),
        "reference_mean": ref.get("mean"),
    }
    if "distinct" not in ref and np.unique(v).size <= cfg.discrete_max_values:
        # an older reference without its values: bins are exact under ties, a CDF is not
        table = _chi2(ref_counts, cur_counts)
        return _verdict({**table, **common, "test": "chi2", "over": "histogram bins"}, cfg)
    if "values" in ref:
        d, over = _ks_exact(v, ref["values"]), "reference values"
    else:
        d, over = _ks_interpolated(v, ref), "reference histogram and quantiles"
    p = float(st.kstwo.sf(d, max(1, round(n * m / (n + m)))))
    out = {"test": "ks", "over": over, "statistic": d, "p_value": p, "effect": d, **common}
    return _verdict(out, cfg)


def discrete_drift(v: np.ndarray, ref: dict[str, Any], cfg: DriftConfig) -> dict[str, Any]:
    """A discrete numeric column as categories: its reference values (``stats["values"]``)."""
    uniq, counts = np.unique(v, return_counts=True)
    current = {value_key(u): int(c) for u, c in zip(uniq, counts, strict=True)}
    out = _category_test(current, ref["values"], int(ref["count"]), cfg)
    return {**out, "mean": float(v.mean()), "reference_mean": ref.get("mean")}


def categorical_drift(values: np.ndarray, ref: dict[str, Any], cfg: DriftConfig) -> dict[str, Any]:
    """PSI and chi-square of category ``values`` against reference frequencies."""
    freq: dict[str, float] = ref.get("frequencies", {})
    cats, counts = np.unique(np.asarray([str(v) for v in values], dtype=object), return_counts=True)
    n, m = int(counts.sum()), int(ref.get("count", 0))
    if n == 0 or m == 0 or not freq:
        return {"evaluated": False, "reason": "no values" if n == 0 else "no reference"}
    current = dict(zip(cats.tolist(), counts.tolist(), strict=True))
    return _category_test(current, freq, m, cfg)


def _category_test(
    current: dict[str, int], freq: dict[str, float], m: int, cfg: DriftConfig
) -> dict[str, Any]:
    n = sum(current.values())
    unseen = sum(c for k, c in current.items() if k not in freq)
    keys = sorted(freq) + ([UNSEEN] if unseen else [])
    cur = np.array([current.get(k, 0) if k != UNSEEN else unseen for k in keys], dtype=float)
    ref_counts = np.array([freq.get(k, 0.0) * m for k in keys], dtype=float)
    out = {
        "test": "chi2",
        **_chi2(ref_counts, cur),
        "psi": psi(ref_counts, cur),
        "unseen_share": unseen / n,
        "frequencies": {k: float(c / n) for k, c in zip(keys, cur, strict=True)},
    }
    return _verdict(out, cfg)


def _chi2(ref_counts: np.ndarray, cur: np.ndarray) -> dict[str, float]:
    """Chi-square test of homogeneity of two count vectors; effect = Cohen's w."""
    table = np.vstack([ref_counts, cur])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        chi2, p = 0.0, 1.0
    else:
        chi2, p, _, _ = st.chi2_contingency(table, correction=False)
    return {
        "statistic": float(chi2),
        "p_value": float(p),
        "effect": float(np.sqrt(chi2 / table.sum())),
    }


def _ks_exact(v: np.ndarray, values: dict[str, float]) -> float:
    """KS distance of sorted ``v`` to the reference step CDF of its stored values (ties exact:
    both CDFs are compared at every point where either jumps)."""
    items = sorted((float(k), p) for k, p in values.items())
    xs = np.array([x for x, _ in items])
    cum = np.concatenate([[0.0], np.cumsum([p for _, p in items])])
    cum /= cum[-1]
    pts = np.union1d(xs, v)
    f_cur = np.searchsorted(v, pts, side="right") / v.size
    f_ref = cum[np.searchsorted(xs, pts, side="right")]
    return float(np.max(np.abs(f_cur - f_ref)))


def _ks_interpolated(v: np.ndarray, ref: dict[str, Any]) -> float:
    """KS distance of sorted ``v`` to the piecewise-linear reference CDF."""
    n = v.size
    x, y = reference_cdf(ref)
    cdf = np.interp(v, x, y, left=0.0, right=1.0)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - cdf), np.max(cdf - (i - 1) / n)))


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
