"""The recommendation: promote, hold or abort, from the report's figures alone.

A pure function of what the report records, so ``pr2prod promote`` can recompute it and
refuse a report whose recommendation does not follow from its own evidence. The rules
(docs/continuous.md, "Canary report"), with ``improvement`` = canary better than production
(accuracy difference, or MAE difference production - canary) and its one-sided bounds at
``canary.level``:

- abort when any harm is shown: the upper bound of the improvement lies below
  ``-abs_tol`` (the canary is worse than the tolerance, with confidence), or the canary's
  error rate exceeds production's by more than ``max_error_rate_increase``, or its p95
  latency is more than ``max_latency_ratio`` times production's;
- promote when non-inferiority is shown as the gate shows it (``gate.rule:
  non_inferiority``): the lower bound is at least ``-abs_tol``, with ``min_labelled``
  labelled records per variant, and both error rates and latencies are known and within
  their limits;
- hold otherwise (not enough evidence either way), each missing piece named.
"""

from __future__ import annotations

from dataclasses import dataclass

from pr2prod.canary.model import Comparison, Recommendation, Rules, VariantFigures
from pr2prod.compare.rules import EPS


@dataclass(frozen=True)
class Outcome:
    """The recommendation, why, and the two ratios it used."""

    recommendation: Recommendation
    reasons: list[str]
    error_rate_increase: float | None
    latency_ratio: float | None


def error_rate_increase(prod: VariantFigures, canary: VariantFigures) -> float | None:
    """Canary error rate minus production's (None when either is unknown)."""
    if prod.error_rate is None or canary.error_rate is None:
        return None
    return canary.error_rate - prod.error_rate


def latency_ratio(prod: VariantFigures, canary: VariantFigures) -> float | None:
    """Canary p95 latency over production's (None when either is unknown or zero)."""
    if prod.latency_p95_ms is None or canary.latency_p95_ms is None or prod.latency_p95_ms <= 0:
        return None
    return canary.latency_p95_ms / prod.latency_p95_ms


def decide(
    prod: VariantFigures, canary: VariantFigures, comparison: Comparison, rules: Rules
) -> Outcome:
    """Apply the canary rules (module doc) to the figures."""
    eri = error_rate_increase(prod, canary)
    ratio = latency_ratio(prod, canary)
    tol = rules.abs_tol
    name = comparison.metric
    abort: list[str] = []
    if comparison.upper is not None and comparison.upper < -tol - EPS:
        abort.append(
            f"{name}: the canary is worse with confidence: upper bound of the improvement "
            f"{comparison.upper:+.4f} < -{tol:g} (canary.abs_tol)"
        )
    if eri is not None and eri > rules.max_error_rate_increase + EPS:
        abort.append(
            f"error rate: canary {canary.error_rate:.4f} vs production {prod.error_rate:.4f}, "
            f"an increase of {eri:.4f} > {rules.max_error_rate_increase:g} "
            "(canary.max_error_rate_increase)"
        )
    if ratio is not None and ratio > rules.max_latency_ratio + EPS:
        abort.append(
            f"latency: canary p95 {canary.latency_p95_ms:.1f} ms is {ratio:.2f}x production's "
            f"{prod.latency_p95_ms:.1f} ms > {rules.max_latency_ratio:g} (canary.max_latency_ratio)"
        )
    if abort:
        return Outcome(Recommendation.abort, abort, eri, ratio)
    hold: list[str] = []
    short = [
        f"{who} {fig.labelled}"
        for who, fig in (("production", prod), ("canary", canary))
        if fig.labelled < rules.min_labelled
    ]
    if short:
        hold.append(
            f"too few labelled records: {', '.join(short)} < {rules.min_labelled} "
            "(canary.min_labelled)"
        )
    if comparison.lower is None:
        hold.append(f"{name}: no comparison (labelled records missing on a side)")
    elif comparison.lower < -tol - EPS:
        hold.append(
            f"{name}: non-inferiority not shown: lower bound of the improvement "
            f"{comparison.lower:+.4f} < -{tol:g} (canary.abs_tol) at level {rules.level:g}"
        )
    if eri is None:
        hold.append("error rates unknown: pass --metrics with the server's /metrics")
    if ratio is None:
        hold.append("latency unknown on a side: no logged request")
    if hold:
        return Outcome(Recommendation.hold, hold, eri, ratio)
    return Outcome(
        Recommendation.promote,
        [
            f"{name}: lower bound of the improvement {comparison.lower:+.4f} >= -{tol:g}; "
            "error rate and latency within their limits"
        ],
        eri,
        ratio,
    )
