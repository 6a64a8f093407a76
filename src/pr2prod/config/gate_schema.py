"""Schema of the ``gate`` config group (conf/gate/): the differential release gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pr2prod.config import catalog


class Direction(StrEnum):
    """``gate.metrics.<name>.direction``: which way is better.

    Member names must equal the values (OmegaConf reads and writes enums by name), so the
    member ``lower`` hides ``str.lower`` on members: compare directions, do not call methods.
    """

    higher = "higher"
    lower = "lower"  # type: ignore[assignment]


DIRECTIONS = tuple(d.value for d in Direction)


class GateMetric(StrEnum):
    """The gateable metrics (keys of ``gate.metrics``, items of ``gate.slices.*.metrics``).

    The same names as ``pr2prod.compare.metrics.METRICS`` (a test keeps them equal).
    """

    accuracy = "accuracy"
    balanced_accuracy = "balanced_accuracy"
    f1 = "f1"
    precision = "precision"
    recall = "recall"
    roc_auc = "roc_auc"
    log_loss = "log_loss"
    rmse = "rmse"
    mae = "mae"
    r2 = "r2"


class Rule(StrEnum):
    """When a check's worsening passes (docs/gate.md, ``pr2prod.compare.rules``)."""

    non_inferiority = "non_inferiority"  # upper confidence bound within tolerance (default)
    point = "point"  # point estimate within tolerance
    harm_proven = "harm_proven"  # fail only when the lower bound exceeds the tolerance


@dataclass
class MetricCheck:
    """One gated metric: how much worse than production the candidate may be.

    ``direction`` null means the metric's natural direction (higher for accuracy, lower
    for rmse). The allowed worsening is the larger of ``abs_tol`` and
    ``rel_tol * |baseline|`` (0 when both are null). ``floor`` is the worst value the
    candidate may have at all (a ceiling for lower-is-better metrics).
    """

    direction: Direction | None = None
    abs_tol: float | None = None
    rel_tol: float | None = None
    floor: float | None = None


@dataclass
class BootstrapConfig:
    """Paired bootstrap of the candidate-minus-baseline difference (``level`` is one-sided)."""

    enabled: bool = True
    resamples: int = 1000
    level: float = 0.95
    seed: int = 0
    max_units: int = 10000


@dataclass
class StabilityConfig:
    """How much the predictions themselves may move between baseline and candidate."""

    max_flip_rate: float | None = 0.1
    max_mean_abs_change: float | None = None


class ClassMetric(StrEnum):
    """``gate.per_class.metrics``: the per-class metrics that can be gated."""

    precision = "precision"
    recall = "recall"
    f1 = "f1"


CLASS_METRICS = tuple(m.value for m in ClassMetric)


@dataclass
class PerClassConfig:
    """Per-class checks (classification): one check per class and metric, same rule."""

    metrics: list[ClassMetric] = field(default_factory=lambda: [ClassMetric.recall])
    abs_tol: float = 0.1


@dataclass
class SliceConfig:
    """A named group of test rows with its own tolerances.

    Exactly one of: ``column`` + ``values`` (one slice per categorical value),
    ``column`` + ``bins`` (one slice per numeric interval ``[lo, hi)``), or ``query``
    (a pandas ``DataFrame.query`` expression).
    """

    column: str | None = None
    values: list[str] | None = None
    bins: list[float] | None = None
    query: str | None = None
    metrics: list[GateMetric] | None = None
    abs_tol: float | None = None
    rel_tol: float | None = None
    min_rows: int = 20


class OnMissing(StrEnum):
    """What the gate does when production's artifact is in no DVC cache or remote."""

    rebuild = "rebuild"  # recompute it from its recorded commit (reproducible pipeline)
    fail = "fail"  # fail closed


@dataclass
class BaselineConfig:
    """Where the production model comes from."""

    ref: str | None = "main"
    artifact: str = field(default_factory=catalog.default_factory("model"))
    on_missing: OnMissing = OnMissing.rebuild


@dataclass
class GateConfig:
    """The differential gate: candidate vs production on the same test rows."""

    rule: Rule = Rule.non_inferiority
    allow_different_data: bool = False
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    metrics: dict[GateMetric, MetricCheck] = field(default_factory=dict)
    bootstrap: BootstrapConfig = field(default_factory=BootstrapConfig)
    stability: StabilityConfig = field(default_factory=StabilityConfig)
    slices: dict[str, SliceConfig] = field(default_factory=dict)
    per_class: PerClassConfig = field(default_factory=PerClassConfig)
