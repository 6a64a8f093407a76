"""Assemble one monitoring report from a window of records (pure: no file access)."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd

from pr2prod.config.monitor_schema import DriftConfig, MonitorConfig
from pr2prod.data.acceptance import category_text
from pr2prod.data.schema import DataSchema
from pr2prod.monitor.control import control_chart, resolve_metric, window_metrics
from pr2prod.monitor.drift import (
    categorical_drift,
    check_discrete_max_values,
    numeric_drift,
    numeric_kind,
)
from pr2prod.monitor.missing import check_missing_increase, missing_drift


def feature_drift(frame: pd.DataFrame, schema: DataSchema, cfg: MonitorConfig) -> dict[str, Any]:
    """Drift of every feature: its missing share against training's
    (:mod:`pr2prod.monitor.missing`) and, when it has values, its distribution. Every
    feature of the schema gets a row; one absent from the window is 100 % missing."""
    check_discrete_max_values(cfg.drift)
    threshold = check_missing_increase(cfg.drift)
    out: dict[str, Any] = {}
    drift = per_test_config(cfg.drift, sum(f.name not in cfg.drift.ignore for f in schema.features))
    for spec in schema.features:
        if spec.name in cfg.drift.ignore:
            out[spec.name] = {"kind": spec.kind, "evaluated": False, "reason": "ignored"}
            continue
        if spec.name not in frame.columns:
            test: dict[str, Any] = {"evaluated": False, "reason": "not in window"}
        elif spec.kind == "numeric":
            values = pd.to_numeric(frame[spec.name], errors="coerce").to_numpy(dtype=float)
            test = {"tested_as": numeric_kind(spec.stats, drift)}
            test.update(numeric_drift(values, spec.stats, drift))
        else:
            # each value as the category it names (2008 and 2008.0 are "2008"), as scoring does
            values = np.asarray([category_text(v) for v in frame[spec.name].dropna()], dtype=object)
            test = {"tested_as": "categorical", **categorical_drift(values, spec.stats, drift)}
        missing = missing_drift(frame, spec, threshold)
        reasons = missing.pop("missing_reasons") + test.pop("reasons", [])
        out[spec.name] = {
            "kind": spec.kind,
            **test,
            **missing,
            "drifted": bool(test.get("drifted")) or missing["missing_drifted"],
            "reasons": reasons,
        }
    return out


def per_test_config(cfg: DriftConfig, n_tests: int) -> DriftConfig:
    """The drift settings one feature's test uses (p-value corrected for ``n_tests`` tests)."""
    if cfg.multiple_testing == "none" or n_tests <= 1:
        return cfg
    if cfg.multiple_testing != "bonferroni":
        raise ValueError(
            f"monitor.drift.multiple_testing: {cfg.multiple_testing!r} is not one "
            "of bonferroni, none"
        )
    return replace(cfg, p_value=cfg.p_value / n_tests)


def prediction_drift(frame: pd.DataFrame, schema: DataSchema, cfg: MonitorConfig) -> dict[str, Any]:
    """Distribution of predictions against the training target's distribution."""
    pred = frame["prediction"].dropna()
    if schema.task == "regression":
        values = pd.to_numeric(pred, errors="coerce").to_numpy(dtype=float)
        return numeric_drift(values, schema.target_stats, cfg.drift)
    return categorical_drift(pred.to_numpy(), schema.target_stats, cfg.drift)


def volume(frame: pd.DataFrame, freq: str) -> list[dict[str, Any]]:
    """Records per window (invocation counts)."""
    ts = frame["timestamp"].dropna()
    if ts.empty:
        return [{"window": "all", "n": len(frame)}]
    counts = ts.dt.floor(freq).value_counts().sort_index()
    return [{"window": str(w), "n": int(n)} for w, n in counts.items()]


def build_report(
    frame: pd.DataFrame,
    schema: DataSchema,
    cfg: MonitorConfig,
    labelled: pd.DataFrame | None,
    window: dict[str, Any],
) -> dict[str, Any]:
    """Drift, prediction drift, performance chart, volume and the alert decision."""
    n = len(frame)
    enough = n >= cfg.drift.min_rows
    features = feature_drift(frame, schema, cfg) if enough else {}
    prediction: dict[str, Any] = (
        prediction_drift(frame, schema, cfg) if enough else {"evaluated": False}
    )
    drifted = sorted(k for k, v in features.items() if v.get("drifted"))
    performance: dict[str, Any] = {"evaluated": False, "reason": "no labels", "flagged": []}
    if labelled is not None:
        metric = resolve_metric(cfg.performance.metric, schema.task)
        windows = window_metrics(labelled, metric, cfg.performance.window)
        performance = {
            **control_chart(windows, metric, cfg.performance),
            "labelled_rows": len(labelled),
        }
    alerts = [f"feature drift: {name} ({'; '.join(features[name]['reasons'])})" for name in drifted]
    if prediction.get("drifted"):
        alerts.append(f"prediction drift ({'; '.join(prediction['reasons'])})")
    alerts += [
        f"{performance['metric']} outside control limits in window {w}"
        for w in performance["flagged"]
    ]
    versions = frame["model_version"].astype(str).value_counts() if n else pd.Series(dtype=int)
    return {
        "window": {**window, "rows": n},
        "drift_evaluated": enough,
        "drift_reason": None if enough else f"{n} rows < drift.min_rows={cfg.drift.min_rows}",
        "features": features,
        "drifted_features": drifted,
        "prediction": prediction,
        "performance": performance,
        "volume": volume(frame, cfg.performance.window) if n else [],
        "model_versions": {str(k): int(v) for k, v in versions.items()},
        "thresholds": asdict(cfg.drift),
        "alerts": alerts,
        "alert": bool(alerts),
    }


def plots_data(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """DVC plots data: drift per feature, the control chart (``window_number`` 1, 2, ... is
    its x axis), volume per window."""
    drift = [
        {
            "feature": k,
            "psi": _num(v.get("psi")),
            "effect": _num(v.get("effect")),
            "drifted": bool(v.get("drifted")),
        }
        for k, v in report["features"].items()
        if v.get("evaluated")
    ]
    perf = [
        {
            "window_number": i,
            **{k: p.get(k) for k in ("window", "n", "value", "centre", "lcl", "ucl", "out")},
        }
        for i, p in enumerate(report["performance"].get("points", []), start=1)
    ]
    return {"drift": drift, "performance": perf, "volume": report["volume"]}


def _num(v: Any) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)
