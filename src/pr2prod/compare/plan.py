"""The check ids a gate config will produce, known before any model is scored.

``pytest -m differential`` parametrises one test per planned check, so CI output names
every failing check even before the (lazy) gate run that decides them.
"""

from __future__ import annotations

import itertools
import math

from pr2prod.compare.metrics import skip_reason
from pr2prod.config.gate_schema import GateConfig


def _edge(x: float) -> str:
    return "-inf" if x == -math.inf else "inf" if x == math.inf else f"{x:g}"


def slice_names(key: str, values: list | None, bins: list[float] | None) -> list[str]:
    """Names of the concrete slices of one slice entry (same as :mod:`slices` builds)."""
    if values is not None:
        return [f"{key}={v}" for v in values]
    if bins is not None:
        return [f"{key}[{_edge(lo)}, {_edge(hi)})" for lo, hi in itertools.pairwise(bins)]
    return [key]


def planned_check_ids(
    cfg: GateConfig, task: str, has_proba: bool = True, labels: list | None = None
) -> list[str]:
    """Every check id the gate can report for ``task`` (metric, floor, stability, class,
    slice); per-class ids need the model's ``labels``."""
    ids = []
    applicable = [n for n in cfg.metrics if skip_reason(n, task, has_proba) is None]
    for name in applicable:
        ids.append(f"metric:{name}")
        if cfg.metrics[name].floor is not None:
            ids.append(f"floor:{name}")
    ids.append("stability:" + ("mean_abs_change" if task == "regression" else "flip_rate"))
    if task != "regression":
        ids.extend(f"class:{label}:{k}" for k in cfg.per_class.metrics for label in labels or [])
    for key, sl in cfg.slices.items():
        names = [
            n for n in (sl.metrics or list(cfg.metrics)) if skip_reason(n, task, has_proba) is None
        ]
        for one in slice_names(key, sl.values, sl.bins):
            ids.extend(f"slice:{one}:{n}" for n in names)
    return ids
