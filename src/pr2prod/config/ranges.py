"""Domains of the numeric settings outside ``model`` (checked at compose, exit 2).

A model's arguments have theirs in their target schema (:mod:`pr2prod.config.builtin_targets`
and the team's own); the other groups' numbers are listed here, one line each, so
``split.test_size=1.5`` is refused when composed instead of failing at prepare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pr2prod.config.errors import ConfigError


@dataclass(frozen=True)
class Interval:
    """``low <= value <= high``; ``open_low``/``open_high`` make that end strict."""

    low: float
    high: float
    open_low: bool = False
    open_high: bool = False

    def contains(self, value: float) -> bool:
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        return above and below

    def text(self) -> str:
        left = "<" if self.open_low else "<="
        right = "<" if self.open_high else "<="
        return f"{_num(self.low)} {left} value {right} {_num(self.high)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


_COUNT = 1e9
RANGES: dict[str, Interval] = {
    "seed": Interval(0, 2**32 - 1),
    "split.test_size": Interval(0, 1, open_low=True, open_high=True),
    "validate.min_rows_per_class": Interval(1, _COUNT),
    "validate.max_null_share": Interval(0, 1),
    "features.max_categories": Interval(2, 100_000),
    "features.polynomial_degree": Interval(1, 5),
    "features.select_k_best": Interval(1, 1_000_000),
    "evaluate.calibration_bins": Interval(2, 10_000),
    "evaluate.curve_points": Interval(2, 1_000_001),
    "data.synthetic.n_rows": Interval(10, _COUNT),
    "data.synthetic.n_features": Interval(1, 100_000),
    "data.synthetic.n_informative": Interval(1, 100_000),
    "data.synthetic.n_classes": Interval(2, 1000),
    "data.synthetic.noise": Interval(0, 1e6),
    "data.synthetic.n_categorical": Interval(0, 100_000),
    "data.synthetic.n_categories": Interval(2, 1000),
    "data.synthetic.seed": Interval(0, 2**32 - 1),
}


def check_ranges(cfg: Any) -> None:
    """Refuse the first value of :data:`RANGES` outside its domain (``None`` means unset).

    Raises:
        ConfigError: naming the key, the value and the range.
    """
    for key, interval in RANGES.items():
        value: Any = cfg
        for part in key.split("."):
            value = getattr(value, part)
        if value is None:
            continue
        if isinstance(value, bool) or not interval.contains(value):
            raise ConfigError(f"{key}: {value!r} is outside its range ({interval.text()})")
