"""Schema of the ``canary`` config group (conf/canary/): how ``pr2prod canary-report`` decides."""

from __future__ import annotations

from dataclasses import dataclass, field

from pr2prod.config import catalog


@dataclass
class CanaryConfig:
    """Decision rules of ``pr2prod canary-report`` (promote, hold or abort a canary).

    Attributes:
        abs_tol: largest loss of the metric (canary minus production) still "no worse".
        level: one-sided confidence level of the non-inferiority bound.
        min_labelled: fewer labelled records than this per variant: hold (not enough evidence).
        max_error_rate_increase: canary error rate minus production's above this: abort.
        max_latency_ratio: canary p95 latency over production's above this: abort.
        report: where the report is written (JSON, sealed); ``pr2prod promote`` reads it.
        summary: its Markdown summary.
    """

    abs_tol: float = 0.03
    level: float = 0.95
    min_labelled: int = 200
    max_error_rate_increase: float = 0.01
    max_latency_ratio: float = 1.5
    report: str = field(default_factory=catalog.default_factory("canary_json"))
    summary: str = field(default_factory=catalog.default_factory("canary_md"))
