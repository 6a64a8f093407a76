"""Schema of the ``serve`` config group (conf/serve/): the BentoML service and its extras."""

from __future__ import annotations

from dataclasses import dataclass, field

from pr2prod.config import catalog
from pr2prod.config.errors import ConfigError


@dataclass
class ServeLimits:
    """Request limits enforced before a request reaches the model."""

    max_batch_size: int = 1000
    max_body_bytes: int = 1_048_576


@dataclass
class BatchingConfig:
    """BentoML adaptive batching of concurrent ``/predict`` calls."""

    enabled: bool = True
    max_batch_size: int = 64
    max_latency_ms: int = 1000


@dataclass
class ShadowConfig:
    """Application-level shadow deployment: score a second model off the response path."""

    enabled: bool = False
    model_path: str | None = None
    timeout_s: float = 1.0
    queue_size: int = 1000


@dataclass
class CanaryRouting:
    """Canary deployment: a share of live traffic answered by a second model.

    The record's id (``id_field``) decides when one is given, so a caller's record always meets
    the same variant (sticky); otherwise each record is routed at random with ``share``.
    Routing itself: :mod:`pr2prod.serving.routing`. Checked by :func:`check_serve`.
    """

    enabled: bool = False
    model_path: str | None = None
    share: float = 0.1


@dataclass
class RetentionConfig:
    """When rotated prediction-log files are removed (null: never by that rule)."""

    max_files: int | None = None
    max_age_days: float | None = None


@dataclass
class PredictionLogConfig:
    """JSON-lines prediction log, rotated by size, kept until ``retention`` removes a file."""

    enabled: bool = True
    path: str = field(default_factory=catalog.default_factory("prediction_log"))
    max_bytes: int = 10_485_760
    max_pending_bytes: int = 16_777_216
    retention: RetentionConfig = field(default_factory=RetentionConfig)


@dataclass
class ServeConfig:
    """Settings of the BentoML service (``pr2prod serve``, ``bentoml serve``, the Bento)."""

    host: str = "127.0.0.1"
    port: int = 3000
    workers: int = 1
    timeout_s: float = 10.0
    access_log: bool = False
    fast_path: bool = True
    id_field: str | None = None
    limits: ServeLimits = field(default_factory=ServeLimits)
    batching: BatchingConfig = field(default_factory=BatchingConfig)
    shadow: ShadowConfig = field(default_factory=ShadowConfig)
    canary: CanaryRouting = field(default_factory=CanaryRouting)
    prediction_log: PredictionLogConfig = field(default_factory=PredictionLogConfig)


def check_serve(cfg: ServeConfig) -> None:
    """Checks of ``serve`` values the types alone do not catch (the canary's keys).

    Raises:
        ConfigError: naming the key and the allowed values: ``canary.share`` outside [0, 1],
            ``canary.enabled`` without ``canary.model_path``, or the canary and the shadow
            both enabled (the shadow compares against one production answer; a canary
            splits that answer between two models, so run them one after the other).
    """
    canary = cfg.canary
    if not 0.0 <= canary.share <= 1.0:
        raise ConfigError(
            f"serve.canary.share: {canary.share!r} is outside the allowed range [0, 1] "
            "(the fraction of records the canary answers)"
        )
    if not canary.enabled:
        return
    if not canary.model_path:
        raise ConfigError(
            "serve.canary.model_path: null while serve.canary.enabled is true; "
            "set it to the canary's artifact directory (or `pr2prod serve --canary-model DIR`)"
        )
    if cfg.shadow.enabled:
        raise ConfigError(
            "serve.shadow.enabled and serve.canary.enabled are both true; enable one of them "
            "(shadow first, then canary: docs/serving.md)"
        )
