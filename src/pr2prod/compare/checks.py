"""Gate checks: metric deltas with tolerances and intervals, floors, stability."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from pr2prod.compare.bootstrap import interval, resample_counts, resampled
from pr2prod.compare.metrics import METRICS, Sums, auc_point, flip_rate, mean_abs_change
from pr2prod.compare.sums import Paired, assign_units, total, unit_sums
from pr2prod.config.gate_schema import BootstrapConfig

EPS = 1e-12


@dataclass
class Scored:
    """Point sums (leading axis 1) and, with the bootstrap on, resampled sums."""

    rows: int
    point: Sums
    boot: Sums | None
    level: float
    exact: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass
class Tolerance:
    """Direction and allowed worsening of one metric check."""

    direction: str
    abs_tol: float | None = None
    rel_tol: float | None = None

    def allowed(self, baseline: float) -> float:
        return max(self.abs_tol or 0.0, (self.rel_tol or 0.0) * abs(baseline))


@dataclass
class CheckResult:
    """One line of the gate report (the ``checks`` entries of ``gate.json``)."""

    id: str
    kind: str  # metric | floor | stability
    metric: str
    slice: str | None
    direction: str
    baseline: float | None
    candidate: float
    delta: float | None
    ci: list[float] | None
    tolerance: float | None
    passed: bool
    rows: int
    note: str = ""

    def to_dict(self) -> dict:
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in asdict(self).items()
        }


def score(p: Paired, bs: BootstrapConfig, metrics: Iterable[str] | None = None) -> Scored:
    """Unit sums of ``p`` (for ``metrics``; None = all) and their paired bootstrap resamples."""
    wanted = None if metrics is None else set(metrics)
    n_units = min(p.n, bs.max_units)
    sums = unit_sums(p, assign_units(p.n, bs.max_units, bs.seed), n_units, wanted)
    boot = None
    if bs.enabled and p.n > 1:
        boot = resampled(sums, resample_counts(n_units, bs.resamples, bs.seed))
    scored = Scored(p.n, total(sums), boot, bs.level)
    if "auc_c" in sums:  # the bootstrap uses the linearised AUC; points are exact
        point = scored.point
        scored.exact["roc_auc"] = (float(auc_point(point, "c")[0]), float(auc_point(point, "b")[0]))
    return scored


def metric_values(s: Scored, name: str) -> tuple[float, float]:
    """(candidate, baseline) point values of metric ``name``."""
    if name in s.exact:
        return s.exact[name]
    fn = METRICS[name].fn
    return float(fn(s.point, "c")[0]), float(fn(s.point, "b")[0])


def metric_check(
    s: Scored, name: str, tol: Tolerance, check_id: str, slice_name: str | None = None
) -> CheckResult:
    """Compare one metric; with the bootstrap on, fail only on a significant worsening."""
    c, b = metric_values(s, name)
    higher = tol.direction == "higher"
    allowed = tol.allowed(b)
    worse = (b - c) if higher else (c - b)
    result = CheckResult(
        check_id,
        "metric",
        name,
        slice_name,
        tol.direction,
        b,
        c,
        c - b,
        None,
        allowed,
        worse <= allowed + EPS,
        s.rows,
    )
    if not (math.isfinite(c) and math.isfinite(b)):
        result.passed, result.note = True, "undefined on these rows; not gated"
        return result
    if s.boot is not None:
        fn = METRICS[name].fn
        # shift by the binning error of the point delta (zero for exactly summed metrics)
        shift = (c - b) - float(fn(s.point, "c")[0] - fn(s.point, "b")[0])
        lo, hi = interval(fn(s.boot, "c") - fn(s.boot, "b") + shift, s.level)
        result.ci = [lo, hi]
        worse_lo = -hi if higher else lo
        if worse > allowed + EPS and not worse_lo > allowed + EPS:
            result.note = f"worse than tolerance but not significant at level {s.level:g}"
        result.passed = not (worse_lo > allowed + EPS)
    return result


def floor_check(s: Scored, name: str, direction: str, floor: float, check_id: str) -> CheckResult:
    """The candidate alone against an absolute floor (a ceiling when lower is better)."""
    c, _ = metric_values(s, name)
    ok = c >= floor if direction == "higher" else c <= floor
    return CheckResult(
        check_id,
        "floor",
        name,
        None,
        direction,
        None,
        c,
        None,
        None,
        floor,
        bool(ok),
        s.rows,
        "" if ok else f"candidate {c:.4g} beyond floor {floor:g}",
    )


def stability_value(s: Scored, task: str) -> tuple[str, float, np.ndarray | None]:
    """Name, point value and bootstrap samples of the prediction-change measure."""
    fn = mean_abs_change if task == "regression" else flip_rate
    name = "mean_abs_change" if task == "regression" else "flip_rate"
    return name, float(fn(s.point)[0]), None if s.boot is None else fn(s.boot)


def stability_check(
    s: Scored, task: str, limit: float | None, slice_name: str | None = None
) -> CheckResult:
    """Flip rate (classification) or mean absolute change (regression) against its limit."""
    name, value, samples = stability_value(s, task)
    ci = None if samples is None else list(interval(samples, s.level))
    passed = limit is None or value <= limit + EPS
    prefix = "stability" if slice_name is None else f"slice:{slice_name}"
    return CheckResult(
        f"{prefix}:{name}",
        "stability",
        name,
        slice_name,
        "lower",
        None,
        value,
        None,
        ci,
        limit,
        passed,
        s.rows,
        "" if limit is not None else "not gated",
    )
