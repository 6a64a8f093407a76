"""Performance per time window on a control chart (statistical process control).

Proportions (accuracy, error rate) use a p-chart: centre p̄ pooled over the reference windows,
limits p̄ ± kσ with σ = sqrt(p̄(1-p̄)/n) for each window's own size n. Errors (MAE, RMSE) use
an X̄-chart of the per-row errors (absolute, squared for RMSE): centre = their mean over the
reference windows, σ = their pooled within-window standard deviation, limits centre ± kσ/√n
(for RMSE the square roots of the limits on the mean squared error). Windows after the
reference period outside the limits are flagged (if they hold enough rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pr2prod.config.monitor_schema import ALERT_METRICS, PerformanceConfig

PROPORTIONS = ("accuracy", "error_rate")


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
    out = grouped.agg(["count", "mean", "std"]).reset_index()
    out.columns = ["window", "n", "mean", "sd"]
    out = out[out["n"] > 0].reset_index(drop=True)
    out["sd"] = out["sd"].fillna(0.0)
    out["value"] = np.sqrt(out["mean"]) if metric == "rmse" else out["mean"]
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
    n = windows["n"].to_numpy(dtype=float)
    if metric in PROPORTIONS:
        centre = float((ref["mean"] * ref["n"]).sum() / ref["n"].sum())
        sd = np.sqrt(centre * (1 - centre) / n)
        lcl, ucl = np.clip(centre - cfg.sigma * sd, 0, 1), np.clip(centre + cfg.sigma * sd, 0, 1)
        chart = "p"
    else:
        mean = float((ref["mean"] * ref["n"]).sum() / ref["n"].sum())
        dof = (ref["n"] - 1).clip(lower=0)
        pooled = float(np.sqrt((dof * ref["sd"] ** 2).sum() / max(dof.sum(), 1)))
        lo = np.maximum(mean - cfg.sigma * pooled / np.sqrt(n), 0.0)
        hi = mean + cfg.sigma * pooled / np.sqrt(n)
        centre, lcl, ucl = (
            (float(np.sqrt(mean)), np.sqrt(lo), np.sqrt(hi)) if metric == "rmse" else (mean, lo, hi)
        )
        chart = "xbar"
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
