"""Schema of the ``monitor`` config group (conf/monitor/): batch scoring and drift monitoring."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from omegaconf import MISSING

from pr2prod.config import catalog


class MonitorSource(StrEnum):
    """``monitor.source``: where the monitored window comes from."""

    log = "log"  # the serving prediction log
    scored = "scored"  # a batch input table joined with its predictions


class MultipleTesting(StrEnum):
    """``monitor.drift.multiple_testing``: correction for testing many features at once."""

    bonferroni = "bonferroni"
    none = "none"


class PerformanceMetric(StrEnum):
    """``monitor.performance.metric``: the metric charted per window."""

    auto = "auto"  # accuracy for classifiers, mae for regressors
    accuracy = "accuracy"
    error_rate = "error_rate"
    mae = "mae"
    rmse = "rmse"


ALERT_METRICS = tuple(m.value for m in PerformanceMetric if m is not PerformanceMetric.auto)


def _sqlite(path: str) -> str:
    """The SQLAlchemy URL of a SQLite file (``MISSING`` without a path)."""
    return MISSING if path == MISSING else f"sqlite:///{path}"


@dataclass
class ScoreConfig:
    """Batch scoring (``pr2prod score``, ``pipelines/score``)."""

    input: str = field(default_factory=catalog.default_factory("score_input"))
    model: str = field(default_factory=catalog.default_factory("model"))
    chunk_rows: int = 100_000
    database_url: str | None = field(
        default_factory=lambda: _sqlite(catalog.default_factory("warehouse")())
    )
    table: str = "predictions"
    parquet_dir: str | None = field(default_factory=catalog.default_factory("scored"))
    summary: str = field(default_factory=catalog.default_factory("score_json"))


@dataclass
class DriftConfig:
    """When a feature (or the prediction) counts as drifted."""

    min_rows: int = 100
    psi_threshold: float = 0.2
    p_value: float = 0.01
    min_effect: float = 0.1
    multiple_testing: MultipleTesting = MultipleTesting.bonferroni
    discrete_max_values: int = 20
    ignore: list[str] = field(default_factory=list)
    # rise of a feature's missing share over training's that counts as drift (conf/monitor)
    missing_increase: float = MISSING


@dataclass
class PerformanceConfig:
    """Performance per time window with a control chart (needs labels)."""

    labels: str | None = None
    label_column: str | None = None  # None: the model's target column (schema.json target)
    metric: PerformanceMetric = PerformanceMetric.auto
    window: str = "1D"
    reference_windows: int = 5
    sigma: float = 3.0
    min_window_rows: int = 30


@dataclass
class AlertConfig:
    """What happens when a threshold is crossed."""

    exit_code: int = 1
    flag_file: str | None = field(default_factory=catalog.default_factory("monitor_alert"))


@dataclass
class MonitorConfig:
    """Batch scoring and monitoring settings (issue 6)."""

    score: ScoreConfig = field(default_factory=ScoreConfig)
    source: MonitorSource = MonitorSource.log
    log: str = field(default_factory=catalog.default_factory("prediction_log"))
    scored_input: str | None = None
    scored_predictions: str | None = None
    timestamp_column: str | None = None
    include_shadow: bool = False
    window_days: float | None = 7.0
    drift: DriftConfig = field(default_factory=DriftConfig)
    performance: PerformanceConfig = field(default_factory=PerformanceConfig)
    alert: AlertConfig = field(default_factory=AlertConfig)
    report_dir: str = field(default_factory=catalog.default_factory("monitor_reports"))
    plots_dir: str = field(default_factory=catalog.default_factory("monitor_plots"))
