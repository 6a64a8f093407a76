"""Gate checks: metric deltas with tolerances and intervals, floors, stability."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from pr2prod.compare.bootstrap import interval, resample_counts, resampled
from pr2prod.compare.metrics import (
    METRICS,
    Sums,
    auc_point,
    flip_rate,
    mean_abs_change,
    per_class,
)
from pr2prod.compare.rules import Decision, decide
from pr2prod.compare.sums import Paired, assign_units, total, unit_sums
from pr2prod.config.gate_schema import BootstrapConfig, Rule


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
    """One line of the gate report (the ``checks`` entries of ``gate.json``).

    ``ci`` is the two-sided interval of the delta, for reading; ``bound`` is the one-sided
    upper bound of the worsening that the non-inferiority rule compares with ``tolerance``;
    ``detectable`` is the smallest worsening this split can detect (``compare.rules``).
    """

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
    bound: float | None = None
    detectable: float | None = None
    rows_needed: int | None = None

    def apply(self, decision: Decision) -> None:
        """Record a rule's decision on this check."""
        self.passed, self.note = decision.passed, decision.note
        self.bound, self.detectable = decision.bound, decision.detectable
        self.rows_needed = decision.rows_needed

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
    scored: Scored,
    name: str,
    tol: Tolerance,
    rule: Rule,
    check_id: str,
    slice_name: str | None = None,
) -> CheckResult:
    """Compare one metric of candidate and production under ``rule``."""
    cand, prod = metric_values(scored, name)
    higher = tol.direction == "higher"
    allowed = tol.allowed(prod)
    worsening = (prod - cand) if higher else (cand - prod)
    result = CheckResult(
        check_id, "metric", name, slice_name, tol.direction, prod, cand, cand - prod,
        None, allowed, False, scored.rows,
    )  # fmt: skip
    if not (math.isfinite(cand) and math.isfinite(prod)):
        result.passed, result.note = True, "undefined on these rows; not gated"
        return result
    samples = None
    if scored.boot is not None:
        fn = METRICS[name].fn
        # shift by the binning error of the point delta (zero for exactly summed metrics)
        shift = (cand - prod) - float(fn(scored.point, "c")[0] - fn(scored.point, "b")[0])
        deltas = fn(scored.boot, "c") - fn(scored.boot, "b") + shift
        result.ci = list(interval(deltas, scored.level))
        samples = -deltas if higher else deltas
    result.apply(decide(rule, worsening, samples, allowed, scored.level, scored.rows))
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
    scored: Scored, task: str, limit: float | None, rule: Rule, slice_name: str | None = None
) -> CheckResult:
    """Flip rate (classification) or mean absolute change (regression) against its limit."""
    name, value, samples = stability_value(scored, task)
    ci = None if samples is None else list(interval(samples, scored.level))
    prefix = "stability" if slice_name is None else f"slice:{slice_name}"
    result = CheckResult(
        f"{prefix}:{name}", "stability", name, slice_name, "lower", None, value,
        None, ci, limit, True, scored.rows,
    )  # fmt: skip
    if limit is None:
        result.note = "not gated"
        return result
    result.apply(decide(rule, value, samples, limit, scored.level, scored.rows))
    return result


def class_check(
    scored: Scored, kind: str, index: int, label: str, allowed: float, rule: Rule
) -> CheckResult:
    """One class's precision, recall or F1 (higher is better) under ``rule``."""
    cand = float(per_class(scored.point, "c")[kind][0, index])
    prod = float(per_class(scored.point, "b")[kind][0, index])
    result = CheckResult(
        f"class:{label}:{kind}", "class", kind, None, "higher", prod, cand, cand - prod,
        None, allowed, False, scored.rows,
    )  # fmt: skip
    samples = None
    if scored.boot is not None:
        deltas = (
            per_class(scored.boot, "c")[kind][:, index]
            - per_class(scored.boot, "b")[kind][:, index]
        )
        result.ci = list(interval(deltas, scored.level))
        samples = -deltas
    result.apply(decide(rule, prod - cand, samples, allowed, scored.level, scored.rows))
    return result
