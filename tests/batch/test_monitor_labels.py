"""Labels that arrive later join served predictions by the caller's id (``serve.id_field``),
falling back to the request id; from CSV, Parquet or a SQL table (`pr2prod monitor --labels`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from _project import BIN, run
from pr2prod.errors import DataError
from pr2prod.monitor.log import read_prediction_log
from pr2prod.monitor.window import join_labels, read_labels
from pr2prod.serving.predictor import Predictor
from pr2prod.serving.predlog import PredictionLog
from pr2prod.serving.recorder import Job, Recorder

START = pd.Timestamp("2026-03-01T00:00:00Z")
N = 400


@pytest.fixture(scope="module")
def served(trained_project: Path, trained_model_dir: Path) -> pd.DataFrame:
    """N records, one /predict request each; even rows carry a customer id, odd ones none."""
    test = pd.read_parquet(trained_project / "data/prepared/test.parquet")
    df = test.sample(N, replace=True, random_state=3).reset_index(drop=True)
    df["request_id"] = [f"req-{i}" for i in range(N)]
    df["customer"] = [f"cust-{i}" if i % 2 == 0 else None for i in range(N)]
    df["timestamp"] = START + pd.to_timedelta(np.arange(N) * 5 * 86400 / N, "s")
    return df


def _write_log(df: pd.DataFrame, model_dir: Path, path: Path) -> Path:
    predictor = Predictor.from_dir(model_dir)
    scores = predictor.score(predictor.to_array(df[predictor.names].to_dict("records")))
    recorder = Recorder(PredictionLog(path, max_bytes=100_000), None, 1.0, queue_size=1)
    for i, r in enumerate(df.to_dict("records")):
        recorder.submit(
            Job(
                request_id=r["request_id"],
                endpoint="predict",
                records=[{f: r[f] for f in predictor.names}],
                outputs=[scores.output(i)],
                model=predictor.info.as_dict(),
                latency_ms=1.0,
                timestamp=r["timestamp"].timestamp(),
                ids=[r["customer"] if isinstance(r["customer"], str) else None],
            )
        )
    recorder.close(timeout=60)
    return path


def _labels(df: pd.DataFrame) -> pd.DataFrame:
    """Labels for rows 0, 3, 6, ... keyed by the customer id when served with one."""
    part = df.iloc[::3]
    keys = part["customer"].where(part["customer"].notna(), part["request_id"])
    return pd.DataFrame({"row_id": keys.to_list(), "target": part["target"].to_list()})


def test_served_ids_key_the_rows_and_request_ids_are_the_fallback(
    served: pd.DataFrame, trained_model_dir: Path, tmp_path: Path
) -> None:
    log = _write_log(served, trained_model_dir, tmp_path / "p.jsonl")
    frame, counts = read_prediction_log(log)
    assert counts["records"] == N
    assert frame["row_id"].tolist()[:4] == ["cust-0", "req-1", "cust-2", "req-3"]
    assert "customer" not in frame.columns  # the id is no feature


@pytest.mark.parametrize("kind", ["csv", "parquet", "sqlite"])
def test_labels_join_by_id_from_files_and_sql(
    served: pd.DataFrame, trained_model_dir: Path, tmp_path: Path, kind: str
) -> None:
    frame, _ = read_prediction_log(_write_log(served, trained_model_dir, tmp_path / "p.jsonl"))
    labels = _labels(served)
    if kind == "csv":
        source = str(tmp_path / "labels.csv")
        labels.to_csv(source, index=False)
    elif kind == "parquet":
        source = str(tmp_path / "labels.parquet")
        labels.to_parquet(source)
    else:
        url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
        engine = sa.create_engine(url)
        labels.to_sql("labels", engine, index=False)
        engine.dispose()
        source = f"{url}#labels"
    joined = join_labels(frame, read_labels(source), "row_id", "target")
    assert len(joined) == len(labels)  # every label found its served record, once
    truth = dict(zip(labels["row_id"], labels["target"], strict=True))
    assert all(truth[k] == lab for k, lab in zip(joined["row_id"], joined["label"], strict=True))
    assert (
        joined["row_id"].str.startswith("cust-").sum() == (labels["row_id"].str[:4] == "cust").sum()
    )


def test_sql_labels_need_a_table_that_exists(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    with pytest.raises(ValueError, match="names a database but no table"):
        read_labels(url)
    with pytest.raises(DataError, match="no table 'labels'"):
        read_labels(f"{url}#labels")
    with pytest.raises(ValueError, match=r"monitor\.performance\.labels"):
        read_labels("nosuchdialect://host/db#labels")


def test_monitor_cli_reads_labels_from_a_sql_table(
    served: pd.DataFrame, trained_project: Path, trained_model_dir: Path, tmp_path: Path
) -> None:
    log = _write_log(served, trained_model_dir, tmp_path / "logs/p.jsonl")
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    engine = sa.create_engine(url)
    _labels(served).to_sql("labels", engine, index=False)
    engine.dispose()
    proc = run(
        [
            str(BIN / "pr2prod"),
            "monitor",
            "--params",
            str(trained_project / "params.yaml"),
            "--model",
            str(trained_model_dir),
            "--start",
            START.isoformat(),
            "--log",
            str(log),
            "--labels",
            f"{url}#labels",
            "--exit-code",
            "0",
        ],
        tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    perf = json.loads((tmp_path / "reports/monitor.json").read_text())["performance"]
    assert perf["labelled_rows"] == len(_labels(served))
