"""The canary report: one sealed record, written by ``pr2prod canary-report`` and read back
by ``pr2prod promote`` (``reports/canary.json``, path ``canary.report``).

Its ``binding`` names the canary's and production's models as the prediction log recorded
them (artifact hash = ``dvc.lock``'s md5 of the artifact); its ``digest`` is the SHA-256 of
the canonical JSON of everything else (:func:`pr2prod.release.verdict.digest`, as the gate
verdict). The digest detects edits; it is not a signature.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pr2prod.config.canary_schema import CanaryConfig
from pr2prod.logrecord import ModelRef

REPORT_VERSION: Literal[1] = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Recommendation(StrEnum):
    """What to do with the canary."""

    promote = "promote"
    hold = "hold"
    abort = "abort"


class Rules(_Strict):
    """The ``canary`` config the recommendation was decided under."""

    abs_tol: float
    level: float
    min_labelled: int
    max_error_rate_increase: float
    max_latency_ratio: float

    @classmethod
    def of(cls, cfg: CanaryConfig) -> Rules:
        return cls(
            abs_tol=cfg.abs_tol,
            level=cfg.level,
            min_labelled=cfg.min_labelled,
            max_error_rate_increase=cfg.max_error_rate_increase,
            max_latency_ratio=cfg.max_latency_ratio,
        )


class VariantFigures(_Strict):
    """One variant's figures: traffic, labelled quality, latency and errors."""

    records: int  # logged records it answered
    requests: int  # distinct requests (latency counts each once)
    labelled: int  # records with a joined label
    hits: int | None = None  # classifier: labelled records predicted right
    metric: float | None = None  # accuracy or MAE over the labelled records
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    requests_ok: float | None = None  # /metrics: pr2prod_variant_requests{outcome="ok"}
    requests_error: float | None = None  # ... {outcome="error"}
    error_rate: float | None = None


class Comparison(_Strict):
    """Canary minus production on the metric, oriented so that positive = canary better."""

    metric: Literal["accuracy", "mae"]
    method: str
    improvement: float | None = None
    lower: float | None = None  # one-sided lower bound at rules.level
    upper: float | None = None  # one-sided upper bound at rules.level


class Binding(_Strict):
    """The two models compared (each the only one its variant answered with)."""

    canary: ModelRef
    production: ModelRef


class LogCounts(_Strict):
    """What reading the log met; nothing is dropped silently."""

    files: int
    lines: int
    records: int
    bad_lines: int  # lines that are not a record (cut by a crash, another format)
    before_since: int  # records older than --since, left out on purpose
    unlabelled: int  # records without a label yet
    first: dt.datetime  # timestamp of the oldest record judged
    last: dt.datetime  # ... and of the newest


class CanaryReport(_Strict):
    """``reports/canary.json``."""

    report_version: Literal[1] = REPORT_VERSION
    log: str
    labels: str | None
    metrics: str | None
    counts: LogCounts
    rules: Rules
    production: VariantFigures
    canary: VariantFigures
    comparison: Comparison
    error_rate_increase: float | None
    latency_ratio: float | None
    recommendation: Recommendation
    reasons: list[str]
    binding: Binding
    digest: str = ""

    def body_digest(self) -> str:
        """SHA-256 over the canonical JSON of the report without its digest."""
        from pr2prod.release.verdict import digest

        return digest(self.model_dump(mode="json"))

    def sealed(self) -> CanaryReport:
        """This report with its digest set."""
        return self.model_copy(update={"digest": self.body_digest()})
