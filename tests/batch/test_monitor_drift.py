"""`pr2prod monitor`: drift flagged for the shifted feature only, control-chart alerts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _project import BIN, run
from pr2prod.config.monitor_schema import DriftConfig
from pr2prod.data.schema import DataSchema, FeatureSpec, categorical_stats
from pr2prod.models.persist import load_artifact
from pr2prod.monitor.drift import categorical_drift
from pr2prod.monitor.log import read_prediction_log

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


def write_log(df: pd.DataFrame, features: list[str], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in df.to_dict("records"):
            fh.write(
                json.dumps(
                    {
                        "request_id": f"req-{r['row_id']}",
                        "row_id": int(r["row_id"]),
                        "timestamp": r["timestamp"].isoformat(),
                        "inputs": {f: float(r[f]) for f in features},
                        "outputs": {"prediction": int(r["prediction"])},
                        "model": {"name": "logistic_regression", "version": "v1"},
                        "shadow": False,
                    }
                )
                + "\n"
            )
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
    log = write_log(shifted, schema.feature_names, tmp_path / "logs/p.jsonl")
    proc = monitor(trained_project, tmp_path, "--log", str(log))
    assert proc.returncode == 1, proc.stderr
    report = json.loads((tmp_path / "reports/monitor.json").read_text())
    assert report["drifted_features"] == ["mean_texture"]
    assert len(report["features"]) == len(schema.features)
    assert (tmp_path / "reports/monitor_alert.md").exists()
    html = (tmp_path / "reports/monitor.html").read_text()
    assert "ALERT: feature drift: mean_texture" in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")  # self-contained
    plots = json.loads((tmp_path / "reports/monitor_plots/drift.json").read_text())
    assert {p["feature"] for p in plots if p["drifted"]} == {"mean_texture"}


def test_no_drift_flags_nothing(trained_project, trained_model_dir, traffic, tmp_path):
    schema = load_artifact(trained_model_dir).schema
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/monitor_alert.md").write_text("stale alert")
    log = write_log(traffic, schema.feature_names, tmp_path / "logs/p.jsonl")
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
    return pd.DataFrame({"row_id": traffic["row_id"], "label": label})


@pytest.mark.parametrize("drop_from_day", [8, None])
def test_performance_drop_crosses_the_control_limit(
    trained_project, trained_model_dir, traffic, tmp_path, drop_from_day
):
    schema = load_artifact(trained_model_dir).schema
    log = write_log(traffic, schema.feature_names, tmp_path / "logs/p.jsonl")
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


def test_log_reader_tolerates_noise_and_skips_shadow(tmp_path):
    lines = [
        {
            "request_id": "a",
            "timestamp": "2026-01-01T00:00:00Z",
            "inputs": {"x": 1.0},
            "outputs": {"prediction": 1},
            "model": {"version": "v1"},
            "shadow": False,
        },
        {
            "request_id": "b",
            "timestamp": "2026-01-01T00:01:00Z",
            "inputs": {"x": 2.0},
            "outputs": {"prediction": 0},
            "model": {"version": "v2"},
            "shadow": True,
        },
        {
            "request_id": "c",
            "timestamp": 1767225720,
            "inputs": [{"x": 3.0}, {"x": 4.0}],
            "outputs": {"prediction": [0, 1]},
            "model": {"artifact_hash": "abc"},
            "shadow": {"prediction": [1, 1]},
        },
        {"request_id": "d", "outputs": {}},
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join([json.dumps(x) for x in lines] + ["not json", "[1, 2]"]) + "\n")
    frame, counts = read_prediction_log(path)
    assert frame["row_id"].tolist() == ["a", "c#0", "c#1"]
    assert frame["x"].tolist() == [1.0, 3.0, 4.0]
    assert frame["model_version"].tolist() == ["v1", "abc", "abc"]
    assert frame["timestamp"].notna().all()
    assert counts == {"lines": 6, "records": 2, "bad_lines": 3, "shadow_skipped": 1}
    with_shadow, _ = read_prediction_log(path, include_shadow=True)
    assert "b" in with_shadow["row_id"].tolist()


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
