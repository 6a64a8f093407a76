"""Control charts and window selection on small in-memory frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pr2prod.config.monitor_schema import PerformanceConfig
from pr2prod.monitor.control import control_chart, resolve_metric, window_metrics
from pr2prod.monitor.window import select_window


def regression_frame(errors_by_day: list[float], per_day: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for day, scale in enumerate(errors_by_day):
        ts = pd.Timestamp("2026-03-01", tz="UTC") + pd.Timedelta(days=day)
        label = rng.normal(size=per_day)
        noise = rng.normal(scale=scale, size=per_day)
        rows.append(pd.DataFrame({"timestamp": ts, "label": label, "prediction": label + noise}))
    return pd.concat(rows, ignore_index=True)


def test_individuals_chart_flags_an_error_spike_after_the_reference_period():
    frame = regression_frame([1.0] * 7 + [3.0, 1.0])
    windows = window_metrics(frame, "mae", "1D")
    chart = control_chart(windows, "mae", PerformanceConfig(reference_windows=5))
    assert chart["chart"] == "xbar"
    assert [pd.Timestamp(w).day for w in chart["flagged"]] == [8]
    spike = chart["points"][7]
    assert spike["value"] > spike["ucl"] > chart["centre"]


def test_too_few_windows_are_reported_not_flagged():
    windows = window_metrics(regression_frame([1.0, 5.0]), "rmse", "1D")
    chart = control_chart(windows, "rmse", PerformanceConfig(reference_windows=5))
    assert not chart["evaluated"]
    assert chart["flagged"] == []
    assert "reference_windows=5" in chart["reason"]


def test_metric_names_are_checked():
    assert resolve_metric("auto", "regression") == "mae"
    assert resolve_metric("auto", "binary") == "accuracy"
    with pytest.raises(ValueError, match=r"monitor\.performance\.metric: 'f1'"):
        resolve_metric("f1", "binary")


def test_window_ends_at_the_newest_record_and_spans_window_days():
    ts = pd.date_range("2026-01-01", periods=10, freq="1D", tz="UTC")
    frame = pd.DataFrame({"timestamp": ts, "x": range(10)})
    got, window = select_window(frame, None, None, 3.0)
    assert got["x"].tolist() == [6, 7, 8, 9]
    assert window["end"].startswith("2026-01-10")
    got, _ = select_window(frame, "2026-01-02T00:00:00Z", "2026-01-03", None)
    assert got["x"].tolist() == [1, 2]
