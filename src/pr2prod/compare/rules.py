"""Decision rules: when a check's worsening passes (``gate.rule``; docs/gate.md).

Every gated quantity is expressed as a *worsening* (production minus candidate for a
higher-is-better metric, candidate minus production otherwise; the flip rate itself for
stability) and compared with the *allowed* worsening (the tolerance). ``samples`` are the
paired-bootstrap resamples of that worsening.

- ``non_inferiority`` (default): pass only when the one-sided upper confidence bound of the
  worsening, at ``gate.bootstrap.level``, is within the tolerance. The burden of proof is on
  the candidate: a noisy test split fails instead of passing.
- ``point``: pass when the point estimate of the worsening is within the tolerance.
- ``harm_proven``: fail only when the one-sided *lower* bound of the worsening exceeds the
  tolerance (the harm is significant). A weak rule, kept for exploratory gates.

Power: ``detectable`` is how far the upper bound lies above the estimate. On this test split
and these two models, a worsening smaller than that cannot be told from noise; a tolerance
below it cannot be shown even for a candidate that is, on these rows, exactly as good.
Since the bootstrap spread shrinks like ``1/sqrt(rows)``, ``rows_needed`` rows would bring
the bound within the tolerance at the same estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pr2prod.config.gate_schema import Rule

EPS = 1e-12


@dataclass(frozen=True)
class Decision:
    """What the rule decided for one check, and the evidence it used."""

    passed: bool
    bound: float | None  # one-sided upper bound of the worsening (None without a bootstrap)
    detectable: float | None  # bound minus the estimate: the smallest worsening detectable
    rows_needed: int | None  # rows that would bring the bound within the tolerance
    note: str


def one_sided_bounds(samples: np.ndarray, level: float) -> tuple[float, float]:
    """(lower, upper) one-sided percentile bounds of ``samples`` at ``level`` (NaNs ignored)."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return math.nan, math.nan
    lower, upper = np.percentile(finite, [100.0 * (1.0 - level), 100.0 * level])
    return float(lower), float(upper)


def _rows_needed(rows: int, detectable: float, room: float) -> int | None:
    """Rows at which a spread of ``detectable`` (at ``rows``) shrinks to ``room``."""
    if room <= EPS or detectable <= EPS:
        return None
    return math.ceil(rows * (detectable / room) ** 2 - 1e-9)  # not up past float noise


def too_small_message(rows: int, allowed: float, decision: Decision) -> str:
    """The plain statement that the test split cannot show non-inferiority, and the way out."""
    need = (
        f"about {decision.rows_needed} test rows"
        if decision.rows_needed is not None
        else "a larger test split"
    )
    return (
        f"test set too small to show non-inferiority at tolerance {allowed:.4g}: with "
        f"{rows} rows the bound lies {decision.detectable:.4g} above the estimate; it would "
        f"take {need}, or a tolerance of {decision.bound:.4g}, which is provable"
    )


def decide(
    rule: Rule,
    worsening: float,
    samples: np.ndarray | None,
    allowed: float,
    level: float,
    rows: int,
) -> Decision:
    """Apply ``rule`` to one check.

    Args:
        rule: the decision rule.
        worsening: point estimate of the worsening (positive = the candidate is worse).
        samples: paired-bootstrap resamples of the worsening; None when the bootstrap is off
            (then only ``point`` can decide; the other rules fail closed).
        allowed: the tolerance (largest acceptable worsening).
        level: one-sided confidence level of the bounds.
        rows: test rows behind the estimate.
    """
    within = worsening <= allowed + EPS
    if samples is None:
        if rule is Rule.point:
            return Decision(within, None, None, None, "")
        return Decision(False, None, None, None, f"rule {rule} needs the bootstrap; none ran")
    lower, upper = one_sided_bounds(samples, level)
    detectable = max(upper - worsening, 0.0)
    needed = None  # only a bound beyond the tolerance needs more rows
    if upper > allowed + EPS:
        needed = _rows_needed(rows, detectable, allowed - max(worsening, 0.0))
    if rule is Rule.point:
        return Decision(within, upper, detectable, needed, "")
    if rule is Rule.harm_proven:
        harmed = lower > allowed + EPS
        note = "" if within or harmed else f"worse than tolerance, not proven at {level:g}"
        return Decision(not harmed, upper, detectable, needed, note)
    decision = Decision(upper <= allowed + EPS, upper, detectable, needed, "")
    if decision.passed:
        return decision
    if not within:
        note = f"worse than tolerance (estimate {worsening:.4g} > {allowed:.4g})"
    else:
        note = too_small_message(rows, allowed, decision)
    return Decision(False, upper, detectable, needed, note)
