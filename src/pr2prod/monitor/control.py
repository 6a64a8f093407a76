"""Performance per time window on a control chart (statistical process control).

Proportions (accuracy, error rate) use a p-chart: centre p̄ pooled over the reference windows,
limits p̄ ± kσ with σ = sqrt(p̄(1-p̄)/n) for each window's own size n. Errors (MAE, RMSE) use
an individuals chart: centre = mean of the reference windows, σ = mean moving range / 1.128.
Windows after the reference period outside the limits are flagged (if they hold enough rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pr2prod.config.monitor_schema import ALERT_METRICS, PerformanceConfig

PROPORTIONS = ("accuracy", "error_rate")
D2 = 1.128  # E[moving range of two] / σ for normal data


def resolve_metric(metric: str, task: str) -> str:
    """``auto`` -> accuracy (classification) or mae (regression); validates the name."""
    if metric == "auto":
        return "mae" if task == "regression" else "accuracy"
    if metric not in ALERT_METRICS:
        raise ValueError(
            f"monitor.performance.metric: {metric!r} is not one of auto, {', '.join(ALERT_METRICS)}"
        )
    return metric


def window_metrics(frame: pd.DataFrame, metric: str, freq: str) -> pd.DataFrame:
    """One row per time window: ``window`` start, ``n`` labelled rows, metric ``value``."""
    y, pred = frame["label"], frame["prediction"]
    if metric in PROPORTIONS:
        hit = (y.astype(str).to_numpy() == pred.astype(str).to_numpy()).astype(float)
        per_row = hit if metric == "accuracy" else 1.0 - hit
    else:
        err = pd.to_numeric(pred, errors="coerce") - pd.to_numeric(y, errors="coerce")
        per_row = np.abs(err.to_numpy()) if metric == "mae" else err.to_numpy() ** 2
    rows = pd.DataFrame({"timestamp": frame["timestamp"], "v": per_row}).dropna()
    try:
        grouped = rows.groupby(pd.Grouper(key="timestamp", freq=freq))["v"]
    except ValueError as exc:
        raise ValueError(
            f"monitor.performance.window: {freq!r} is not a pandas frequency (e.g. 1h, 1D, 1W)"
        ) from exc
    out = grouped.agg(["count", "mean"]).reset_index()
    out.columns = ["window", "n", "value"]
    out = out[out["n"] > 0].reset_index(drop=True)
    if metric == "rmse":
        out["value"] = np.sqrt(out["value"])
    return out


def control_chart(windows: pd.DataFrame, metric: str, cfg: PerformanceConfig) -> dict[str, Any]:
    """Centre line, limits per window and flagged windows (only after the reference period)."""
    k = cfg.reference_windows
    if len(windows) <= k or k < 1:
        return {
            "metric": metric,
            "evaluated": False,
            "flagged": [],
            "points": _points(windows),
            "reason": f"{len(windows)} window(s); need more than reference_windows={k}",
        }
    ref = windows.iloc[:k]
    if metric in PROPORTIONS:
        centre = float((ref["value"] * ref["n"]).sum() / ref["n"].sum())
        sd = np.sqrt(centre * (1 - centre) / windows["n"].to_numpy())
        lcl, ucl = np.clip(centre - cfg.sigma * sd, 0, 1), np.clip(centre + cfg.sigma * sd, 0, 1)
        chart = "p"
    else:
        centre = float(ref["value"].mean())
        mr = np.abs(np.diff(ref["value"].to_numpy()))
        sd_i = float(mr.mean() / D2) if mr.size else 0.0
        lcl = np.full(len(windows), max(centre - cfg.sigma * sd_i, 0.0))
        ucl = np.full(len(windows), centre + cfg.sigma * sd_i)
        chart = "individuals"
    pts = windows.assign(lcl=lcl, ucl=ucl, centre=centre, reference=np.arange(len(windows)) < k)
    outside = (pts["value"] < pts["lcl"]) | (pts["value"] > pts["ucl"])
    pts["out"] = outside & ~pts["reference"] & (pts["n"] >= cfg.min_window_rows)
    flagged = [str(w) for w in pts.loc[pts["out"], "window"]]
    return {
        "metric": metric,
        "chart": chart,
        "evaluated": True,
        "centre": centre,
        "sigma": cfg.sigma,
        "reference_windows": k,
        "flagged": flagged,
        "points": _points(pts),
    }


def _points(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        out.append(
            {
                k: (str(v) if k == "window" else v.item() if hasattr(v, "item") else v)
                for k, v in row.items()
            }
        )
    return out
