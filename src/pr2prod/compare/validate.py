"""Checks on the gate config that its dataclass types cannot express."""

from __future__ import annotations

from pr2prod.compare.metrics import METRICS
from pr2prod.compare.slices import check_slice_config
from pr2prod.config.errors import ConfigError
from pr2prod.config.gate_schema import CLASS_METRICS, DIRECTIONS, GateConfig, Rule


def _non_negative(key: str, value: float | None) -> None:
    if value is not None and value < 0:
        raise ConfigError(f"{key}: must be >= 0 or null, got {value}")


def _known_metric(key: str, name: str) -> None:
    if name not in METRICS:
        raise ConfigError(f"{key}: unknown metric {name!r}; known: {', '.join(METRICS)}")


def validate_gate_config(cfg: GateConfig) -> None:
    """Raise :class:`ConfigError` naming the first invalid ``gate.*`` key."""
    for name, check in cfg.metrics.items():
        key = f"gate.metrics.{name}"
        _known_metric(key, name)
        if check.direction is not None and check.direction not in DIRECTIONS:
            raise ConfigError(
                f"{key}.direction: {check.direction!r} is not one of "
                f"{', '.join(DIRECTIONS)} (or null)"
            )
        _non_negative(f"{key}.abs_tol", check.abs_tol)
        _non_negative(f"{key}.rel_tol", check.rel_tol)
    boot = cfg.bootstrap
    if not 0.5 <= boot.level < 1.0:
        raise ConfigError(
            f"gate.bootstrap.level: one-sided confidence level, must be in [0.5, 1), "
            f"got {boot.level}"
        )
    if not boot.enabled and cfg.rule is not Rule.point:
        raise ConfigError(
            f"gate.bootstrap.enabled: false needs gate.rule: point (gate.rule {cfg.rule} "
            f"decides on the bootstrap's confidence bound); allowed rules: "
            f"{', '.join(r.value for r in Rule)}"
        )
    for key, value in (("resamples", boot.resamples), ("max_units", boot.max_units)):
        if value < 1:
            raise ConfigError(f"gate.bootstrap.{key}: must be >= 1, got {value}")
    _non_negative("gate.stability.max_flip_rate", cfg.stability.max_flip_rate)
    _non_negative("gate.stability.max_mean_abs_change", cfg.stability.max_mean_abs_change)
    for class_metric in cfg.per_class.metrics:
        if class_metric not in CLASS_METRICS:
            raise ConfigError(
                f"gate.per_class.metrics: unknown metric {class_metric!r}; allowed: "
                f"{', '.join(CLASS_METRICS)}"
            )
    _non_negative("gate.per_class.abs_tol", cfg.per_class.abs_tol)
    for key, sl in cfg.slices.items():
        check_slice_config(key, sl)
        for name in sl.metrics or []:
            _known_metric(f"gate.slices.{key}.metrics", name)
        _non_negative(f"gate.slices.{key}.abs_tol", sl.abs_tol)
        _non_negative(f"gate.slices.{key}.rel_tol", sl.rel_tol)
