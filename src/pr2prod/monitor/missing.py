"""Missing data is drift: each feature's missing share in the window against training's.

The training reference (``schema.json``) records each feature's ``null_share`` in the
training split. In the window, a value is missing when it is null (``None``/NaN) or the record
does not carry the feature at all (a column absent from the whole window is 100 % missing).

Rule (``monitor.drift.missing_increase``, default 0.1 in ``conf/monitor``):

- a feature with **no values** in the window is an alert, whatever training looked like;
- otherwise it has drifted when ``window share - training share >= missing_increase``.

Worked figures with ``missing_increase: 0.1``: training 0 % and window 30 % (+0.30) drifts;
training 25 % and window 30 % (+0.05) does not; training 0 % and window 100 % is an alert
(no values). Fewer missing values than in training never alerts.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pr2prod.config.monitor_schema import DriftConfig
from pr2prod.data.schema import FeatureSpec

KEY = "monitor.drift.missing_increase"


def check_missing_increase(cfg: DriftConfig) -> float:
    """The threshold as a float in (0, 1].

    Raises:
        ValueError: naming the key when it is unset or out of range.
    """
    value = cfg.missing_increase
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError(f"{KEY}: {value!r} is not a number in (0, 1] (set it in conf/monitor)")
    return float(value)


def missing_share(frame: pd.DataFrame, name: str) -> float:
    """Share of the window's rows whose ``name`` is null or absent (1.0 for an absent column)."""
    if not len(frame):
        return 0.0
    if name not in frame.columns:
        return 1.0
    return float(frame[name].isna().mean())


def missing_drift(frame: pd.DataFrame, spec: FeatureSpec, threshold: float) -> dict[str, Any]:
    """``missing_share``, ``reference_missing_share``, ``no_values`` and the reasons (if any)
    the feature's missing data counts as drift."""
    share = missing_share(frame, spec.name)
    ref = float(spec.stats.get("null_share") or 0.0)
    no_values = bool(len(frame)) and share >= 1.0
    reasons: list[str] = []
    if no_values:
        where = (
            "absent from every record" if spec.name not in frame.columns else "null in every row"
        )
        reasons.append(f"no values: {where} (training: {ref:.1%} missing)")
    elif round(share - ref, 9) >= threshold:  # 0.12 - 0.02 is 0.0999...: shares, not bits
        reasons.append(
            f"missing {share:.1%} vs {ref:.1%} in training "
            f"(+{share - ref:.1%} >= missing_increase {threshold:g})"
        )
    return {
        "missing_share": share,
        "reference_missing_share": ref,
        "no_values": no_values,
        "missing_drifted": bool(reasons),
        "missing_reasons": reasons,
    }
