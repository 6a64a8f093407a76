"""`pr2prod monitor`: drift flagged for the shifted feature only, control-chart alerts."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _project import BIN, run
from pr2prod.config.monitor_schema import DriftConfig
from pr2prod.data.schema import DataSchema, FeatureSpec, categorical_stats
from pr2prod.logrecord import log_files
from pr2prod.models.persist import load_artifact
from pr2prod.monitor.drift import categorical_drift
from pr2prod.monitor.log import read_prediction_log
from pr2prod.serving.predictor import Predictor
from pr2prod.serving.predlog import PredictionLog
from pr2prod.serving.recorder import Job, Recorder

START = pd.Timestamp("2026-01-01T00:00:00Z")
N_ROWS, DAYS = 2000, 10


@pytest.fixture(scope="module")
def traffic(trained_project: Path, trained_model_dir: Path) -> pd.DataFrame:
    """2,000 requests resampled from the training population over 10 days, with predictions."""
    prepared = trained_project / "data/prepared"
    rows = pd.concat(
        [pd.read_parquet(prepared / "train.parquet"), pd.read_parquet(prepared / "test.parquet")]
    )
    df = rows.sample(N_ROWS, replace=True, random_state=0).reset_index(drop=True)
    df["row_id"] = np.arange(N_ROWS)
    df["timestamp"] = START + pd.to_timedelta(np.arange(N_ROWS) * DAYS * 86400 / N_ROWS, "s")
    model = load_artifact(trained_model_dir)
    df["prediction"] = model.pipeline.predict(df[model.schema.feature_names])
    return df


def write_log(df: pd.DataFrame, model_dir: Path, path: Path) -> Path:
    """The log the server writes for ``df``: one /predict request per row, scored by the
    serving Predictor and written by the server's own recorder and writer."""
    predictor = Predictor.from_dir(model_dir)
    x = predictor.to_array(df[predictor.names].to_dict("records"))
    scores = predictor.score(x)
    log = PredictionLog(path, max_bytes=200_000)
    recorder = Recorder(log, None, 1.0, queue_size=len(df) + 1)
    for i, r in enumerate(df.to_dict("records")):
        recorder.submit(
            Job(
                request_id=f"req-{r['row_id']}",
                endpoint="predict",
                records=[{f: r[f] for f in predictor.names}],
                outputs=[scores.output(i)],
                model=predictor.info.as_dict(),
                latency_ms=1.0,
                timestamp=r["timestamp"].timestamp(),
            )
        )
    recorder.close(timeout=60)
    assert len(log_files(path)) > 1  # the monitor reads the rotated files too
    return path


def monitor(project: Path, cwd: Path, *args: str):
    return run(
        [
            str(BIN / "pr2prod"),
            "monitor",
            "--params",
            str(project / "params.yaml"),
            "--model",
            str(project / "models/model"),
            "--start",
            START.isoformat(),
            *args,
        ],
        cwd,
        check=False,
    )


def test_shifted_feature_is_flagged_and_no_other(
    trained_project, trained_model_dir, traffic, tmp_path
):
    schema = load_artifact(trained_model_dir).schema
    shifted = traffic.copy()
    shifted["mean_texture"] += 2 * schema.feature("mean_texture").stats["std"]
    log = write_log(shifted, trained_model_dir, tmp_path / "logs/p.jsonl")
    proc = monitor(trained_project, tmp_path, "--log", str(log))
    assert proc.returncode == 1, proc.stderr
    report = json.loads((tmp_path / "reports/monitor.json").read_text())
    assert report["drifted_features"] == ["mean_texture"]
    assert len(report["features"]) == len(schema.features)
    assert (tmp_path / "reports/monitor_alert.md").exists()
    html = (tmp_path / "reports/monitor.html").read_text()
    assert "ALERT: feature drift: mean_texture" in html
    # self-contained: no scripts, no links (only SVG's xmlns namespace names)
    assert "<script" not in html
    assert "http" not in re.sub(r'xmlns(:\w+)?="http[^"]*"', "", html)
    plots = json.loads((tmp_path / "reports/monitor_plots/drift.json").read_text())
    assert {p["feature"] for p in plots if p["drifted"]} == {"mean_texture"}


def test_no_drift_flags_nothing(trained_project, trained_model_dir, traffic, tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/monitor_alert.md").write_text("stale alert")
    log = write_log(traffic, trained_model_dir, tmp_path / "logs/p.jsonl")
    proc = monitor(trained_project, tmp_path, "--log", str(log))
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "reports/monitor.json").read_text())
    assert report["drift_evaluated"]
    assert report["window"]["rows"] == N_ROWS
    assert report["drifted_features"] == []
    assert report["prediction"]["evaluated"]
    assert not report["prediction"]["drifted"]
    assert report["alert"] is False
    assert not (tmp_path / "reports/monitor_alert.md").exists()


def labels_with_drop(traffic: pd.DataFrame, drop_from_day: int | None) -> pd.DataFrame:
    """True labels; from ``drop_from_day`` on, 30 % of them disagree with the model."""
    label = traffic["target"].to_numpy().copy()
    if drop_from_day is not None:
        late = (traffic["timestamp"] >= START + pd.Timedelta(days=drop_from_day)).to_numpy()
        flip = late & (np.random.default_rng(1).random(len(label)) < 0.3)
        label[flip] = 1 - traffic["prediction"].to_numpy()[flip]
    # the served log's row id of a /predict record is its request id (X-Request-ID)
    return pd.DataFrame({"row_id": [f"req-{i}" for i in traffic["row_id"]], "target": label})


@pytest.mark.parametrize("drop_from_day", [8, None])
def test_performance_drop_crosses_the_control_limit(
    trained_project, trained_model_dir, traffic, tmp_path, drop_from_day
):
    log = write_log(traffic, trained_model_dir, tmp_path / "logs/p.jsonl")
    labels_with_drop(traffic, drop_from_day).to_csv(tmp_path / "labels.csv", index=False)
    proc = monitor(
        trained_project, tmp_path, "--log", str(log), "--labels", str(tmp_path / "labels.csv")
    )
    perf = json.loads((tmp_path / "reports/monitor.json").read_text())["performance"]
    assert perf["evaluated"]
    assert perf["metric"] == "accuracy"
    assert perf["chart"] == "p"
    assert len(perf["points"]) == DAYS
    if drop_from_day is None:
        assert perf["flagged"] == []
        assert proc.returncode == 0, proc.stderr
    else:
        flagged_days = sorted(pd.Timestamp(w).day - 1 for w in perf["flagged"])
        assert flagged_days == list(range(drop_from_day, DAYS))
        assert all(p["value"] < p["lcl"] for p in perf["points"] if p["out"])
        assert proc.returncode == 1
        assert "accuracy outside control limits" in proc.stderr


def test_log_reader_counts_noise_and_shadow_answers(trained_model_dir, traffic, tmp_path):
    """Rotated, per-worker and gzip files of a log written by the server's recorder are all
    read once; foreign lines are counted; shadow answers are rows only when asked for."""
    predictor = Predictor.from_dir(trained_model_dir)
    rows = traffic.head(30)
    records = rows[predictor.names].to_dict("records")
    outputs = [predictor.score(predictor.to_array(records)).output(i) for i in range(len(records))]
    shadow = Predictor.from_dir(trained_model_dir)  # a candidate that always agrees
    base = tmp_path / "logs/p.jsonl"
    for worker in (0, 1):
        log = PredictionLog(f"{base}.w{worker}", max_bytes=4000)
        recorder = Recorder(log, shadow if worker else None, 5.0, queue_size=100)
        for i in range(worker, len(records), 2):
            recorder.submit(
                Job(
                    f"r{i}",
                    "predict",
                    [records[i]],
                    [outputs[i]],
                    predictor.info.as_dict(),
                    1.0,
                    1767225600.0 + i,
                )
            )
        recorder.close(timeout=30)
    rotated = sorted(base.parent.glob("p.jsonl.w0.*"))
    assert len(rotated) >= 2
    gz = Path(f"{rotated[0]}.gz")
    gz.write_bytes(gzip.compress(rotated[0].read_bytes()))
    rotated[0].unlink()
    with Path(f"{base}.w1").open("a") as fh:
        fh.write('not json\n{"schema_version": 99}\n')

    frame, counts = read_prediction_log(base)
    assert sorted(frame["row_id"]) == sorted(f"r{i}" for i in range(30))
    assert frame["prediction"].tolist() == [outputs[int(r[1:])]["label"] for r in frame["row_id"]]
    assert (frame["model_version"] == predictor.info.version).all()
    assert counts["records"] == 30 and counts["bad_lines"] == 2
    assert counts["shadow_skipped"] == 15
    with_shadow, counts = read_prediction_log(base, include_shadow=True)
    assert len(with_shadow) == 45 and counts["shadow_rows"] == 15
    same_dir, _ = read_prediction_log(base.parent)
    assert len(same_dir) == 30


def test_categorical_drift_uses_chi_square_and_counts_unseen_categories():
    rng = np.random.default_rng(0)
    ref = pd.Series(rng.choice(["a", "b", "c"], size=5000, p=[0.5, 0.3, 0.2]))
    spec = FeatureSpec("c0", "categorical", "string", stats=categorical_stats(ref))
    schema = DataSchema("binary", "y", "row_id", [spec], [0, 1], {"train": 5000})
    cfg = DriftConfig()
    same = rng.choice(["a", "b", "c"], size=3000, p=[0.5, 0.3, 0.2])
    moved = rng.choice(["a", "b", "c", "zz"], size=3000, p=[0.2, 0.3, 0.2, 0.3])
    stats = schema.feature("c0").stats
    assert not categorical_drift(same, stats, cfg)["drifted"]
    result = categorical_drift(moved, stats, cfg)
    assert result["drifted"]
    assert result["test"] == "chi2"
    assert result["unseen_share"] == pytest.approx(0.3, abs=0.03)
