"""Throw-away projects for the retrain tests: a file-source table, a log the real server
components write, and the commands as a person (or the workflow) runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from _project import BIN, make_project, run

FEATURES = ["x0", "x1", "x2", "x3", "x4", "x5"]
TABLE = "data/raw/table.csv"
FILE_OVERRIDES = ("data=file", f"data.path={TABLE}", "data.target=y", "data.id_column=row_id")
START = pd.Timestamp("2026-03-01T00:00:00Z")


def table(n: int, seed: int, shift: float = 0.0, first_id: int = 0) -> pd.DataFrame:
    """``n`` labelled rows; ``shift`` moves x0, x1 and x2 (covariate drift: same labelling rule)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES)))
    x[:, :3] += shift
    y = (x[:, 0] + 0.5 * x[:, 1] - 0.5 * x[:, 3] > 0).astype(int)
    df = pd.DataFrame(x, columns=FEATURES)
    df.insert(0, "row_id", np.arange(first_id, first_id + n))
    df["y"] = y
    return df


def pr2prod(project: Path, *args: str, check: bool = True):
    return run([str(BIN / "pr2prod"), *args], project, check=check)


def file_project(dest: Path, rows: pd.DataFrame, *overrides: str) -> Path:
    """A committed project whose data is ``rows`` at ``TABLE``, tracked by a .dvc pointer."""
    project = make_project(dest, commit=False)
    rows.to_csv(project / TABLE, index=False)
    run(["dvc", "add", TABLE], project)
    pr2prod(project, "compose", *FILE_OVERRIDES, *overrides)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "file-source project"], project)
    return project


def write_log(model_dir: Path, rows: pd.DataFrame, path: Path, hours: float = 48) -> Path:
    """The prediction log the server writes for ``rows`` (one request each over ``hours``):
    the serving Predictor scores, the server's Recorder and PredictionLog write."""
    from pr2prod.serving.predictor import Predictor
    from pr2prod.serving.predlog import PredictionLog
    from pr2prod.serving.recorder import Job, Recorder

    predictor = Predictor.from_dir(model_dir)
    x = predictor.to_array(rows[predictor.names].to_dict("records"))
    scores = predictor.score(x)
    log = PredictionLog(path, max_bytes=10_000_000)
    recorder = Recorder(log, None, 1.0, queue_size=len(rows) + 1)
    step = hours * 3600 / len(rows)
    for i, r in enumerate(rows.to_dict("records")):
        recorder.submit(
            Job(
                request_id=f"req-{r['row_id']}",
                endpoint="predict",
                records=[{f: r[f] for f in predictor.names}],
                outputs=[scores.output(i)],
                model=predictor.info.as_dict(),
                latency_ms=1.0,
                timestamp=(START + pd.Timedelta(seconds=i * step)).timestamp(),
            )
        )
    recorder.close(timeout=60)
    return path


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def git(project: Path, *args: str) -> str:
    return run(["git", *args], project).stdout.strip()
