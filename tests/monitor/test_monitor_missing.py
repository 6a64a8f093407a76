"""Missing data is drift (issue 20 §2).

A prediction log written by the server's own writer (``Recorder`` -> ``PredictionLog``, the
objects ``pr2prod serve`` records with) carries one feature null in every record and another
in 30 % of them; the real ``run_monitor`` reads it against the training reference built by
``infer_schema``. The decision rule is checked against hand-computed figures.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _monitor_data import default_drift, setup, small_integers

from pr2prod.config.monitor_schema import MonitorSource
from pr2prod.data.schema import FeatureSpec
from pr2prod.monitor.missing import check_missing_increase, missing_drift
from pr2prod.monitor.run import run_monitor
from pr2prod.monitor.summary import read_summary
from pr2prod.serving.predlog import PredictionLog
from pr2prod.serving.recorder import Job, Recorder

pytestmark = [pytest.mark.unit]

ROWS, BATCH = 300, 50
MODEL = {"model_name": "m", "model_version": "v1", "artifact_hash": "0" * 32}


def _serve_log(path: Path, records: list[dict[str, object]]) -> None:
    """Record ``records`` as ``/predict_batch`` requests of BATCH, as the server does."""
    recorder = Recorder(PredictionLog(path, max_bytes=10_000_000), None, 1.0, 16)
    for start in range(0, len(records), BATCH):
        part = records[start : start + BATCH]
        recorder.submit(
            Job(
                request_id=f"r{start}",
                endpoint="predict_batch",
                records=part,
                outputs=[{"label": 1, "probabilities": {"0": 0.4, "1": 0.6}} for _ in part],
                model=MODEL,
                latency_ms=1.0,
                timestamp=time.time(),
            )
        )
    recorder.close()


def test_a_feature_gone_null_is_an_alert_and_a_partly_null_one_drifts(tmp_path: Path) -> None:
    m = setup(tmp_path, *small_integers())
    rows = m.train.sample(ROWS, random_state=3)[m.features].astype(object)
    rows["rooms"] = None  # a complete upstream outage of one field
    rows.iloc[: int(ROWS * 0.3), rows.columns.get_loc("x")] = None  # 30 % null
    rows.iloc[: int(ROWS * 0.05), rows.columns.get_loc("garage")] = None  # 5 %: under 0.1
    log = tmp_path / "logs" / "predictions.jsonl"
    _serve_log(log, rows.to_dict("records"))
    cfg = replace(m.cfg, source=MonitorSource.log, log=str(log))

    result = run_monitor(cfg)

    features = result.report["features"]
    assert result.rows == ROWS and result.alert
    assert set(features) == set(m.features)  # no row vanishes
    assert features["rooms"]["no_values"] and features["rooms"]["drifted"]
    assert features["rooms"]["missing_share"] == 1.0
    assert features["rooms"]["reasons"][0].startswith("no values: null in every row")
    assert features["x"]["missing_share"] == pytest.approx(0.3)
    assert features["x"]["reference_missing_share"] == 0.0
    assert (
        features["x"]["drifted"]
        and "missing 30.0% vs 0.0% in training" in (features["x"]["reasons"][0])
    )
    assert features["garage"]["missing_share"] == pytest.approx(0.05)
    assert not features["garage"]["missing_drifted"]
    assert not features["year"]["drifted"]
    assert result.report["drifted_features"] == ["rooms", "x"]
    assert any(a.startswith("feature drift: rooms (no values") for a in result.alerts)

    md = (Path(cfg.report_dir) / "monitor.md").read_text()
    for name in m.features:
        assert f"| {name} |" in md
    assert "| rooms | discrete | 100.0% (0.0%) |" in md
    on_disk = json.loads((Path(cfg.report_dir) / "monitor.json").read_text())
    assert set(on_disk["features"]) == set(m.features)
    assert "rooms" in (Path(cfg.report_dir) / "monitor.html").read_text()
    summary = read_summary(Path(cfg.report_dir) / "monitor.json")  # what `retrain` reads
    assert summary.features["rooms"].drifted and summary.features["rooms"].missing_share == 1.0
    assert summary.evaluated_features == sorted(m.features)  # checked, if only for missing
    assert (tmp_path / "reports/monitor_alert.md").exists()


def test_a_feature_absent_from_every_record_is_an_alert(tmp_path: Path) -> None:
    m = setup(tmp_path, *small_integers())
    rows = m.train.sample(ROWS, random_state=4)[m.features].drop(columns=["year"])
    log = tmp_path / "predictions.jsonl"
    _serve_log(log, rows.to_dict("records"))
    report = run_monitor(replace(m.cfg, source=MonitorSource.log, log=str(log))).report
    year = report["features"]["year"]
    assert year["reason"] == "not in window" and year["drifted"]
    assert year["reasons"][0].startswith("no values: absent from every record")


def _spec(null_share: float) -> FeatureSpec:
    return FeatureSpec("f", "numeric", "float64", stats={"null_share": null_share})


@pytest.mark.parametrize(
    ("training", "window_nulls", "drifted", "no_values"),
    [
        (0.0, 30, True, False),  # +0.30 >= 0.10
        (0.25, 30, False, False),  # +0.05 < 0.10
        (0.02, 12, True, False),  # +0.10 >= 0.10: the boundary counts
        (0.02, 11, False, False),  # +0.09
        (0.3, 5, False, False),  # fewer missing than in training never alerts
        (0.0, 100, True, True),  # no values at all
        (0.9, 100, True, True),  # an alert whatever training looked like
    ],
)
def test_missing_rule_matches_hand_computed_figures(
    training: float, window_nulls: int, drifted: bool, no_values: bool
) -> None:
    frame = pd.DataFrame({"f": [np.nan] * window_nulls + [1.0] * (100 - window_nulls)})
    out = missing_drift(frame, _spec(training), 0.1)
    assert out["missing_share"] == window_nulls / 100
    assert (out["missing_drifted"], out["no_values"]) == (drifted, no_values)


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, "???", None])
def test_a_bad_threshold_names_its_key(bad: object) -> None:
    with pytest.raises(ValueError, match=r"monitor\.drift\.missing_increase"):
        check_missing_increase(default_drift(missing_increase=bad))
