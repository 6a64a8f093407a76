"""pipelines/score and pipelines/monitor under real DVC, in a copy of the trained project."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _project import BIN, ran_stages, run


@pytest.mark.slow
def test_score_then_monitor_pipelines(trained_project: Path, tmp_path: Path):
    project = tmp_path / "proj"
    shutil.copytree(trained_project, project, symlinks=True)
    prepared = project / "data/prepared"
    rows = pd.concat(
        [pd.read_parquet(prepared / "train.parquet"), pd.read_parquet(prepared / "test.parquet")]
    )
    batch = rows.drop(columns="target").sample(1000, replace=True, random_state=3)
    batch["row_id"] = np.arange(1000, 2000)
    (project / "data/batch").mkdir(parents=True)
    batch.to_parquet(project / "data/batch/input.parquet", index=False)
    run(["dvc", "add", "-q", "data/batch/input.parquet"], project)

    first = run(["dvc", "repro", "pipelines/score/dvc.yaml"], project)
    assert ran_stages(first.stdout) == ["pipelines/score/dvc.yaml:score"]
    again = run(["dvc", "repro", "pipelines/score/dvc.yaml"], project)
    assert ran_stages(again.stdout) == []  # same input + model: nothing to do
    assert (project / "pipelines/score/dvc.lock").exists()
    summary = json.loads((project / "reports/score.json").read_text())
    assert summary["rows_scored"] == 1000
    with sqlite3.connect(project / "data/warehouse.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == 1000

    run(
        [
            str(BIN / "pr2prod"),
            "compose",
            "monitor.source=scored",
            "monitor.scored_input=data/batch/input.parquet",
            "monitor.scored_predictions=data/scored/predictions.parquet",
            "monitor.alert.exit_code=0",
        ],
        project,
    )
    run(["dvc", "repro", "pipelines/monitor/dvc.yaml"], project)
    report = json.loads((project / "reports/monitor.json").read_text())
    assert report["window"]["rows"] == 1000
    assert report["drift_evaluated"]
    assert set(report["features"]) == set(batch.columns) - {"row_id"}
    assert (project / "reports/monitor.html").stat().st_size > 0
    # the report's plot data, drawn by DVC as docs/batch_and_monitoring.md says (the monitor
    # pipeline keeps its plots out of the main project's views: no top-level plots)
    shown = run(
        ["dvc", "plots", "show", "--json", "reports/monitor_plots/drift.json"], project
    ).stdout
    plots = json.loads(shown)["data"]
    drawn = plots["reports/monitor_plots/drift.json"][0]["content"]["data"]["values"]
    assert {v["feature"] for v in drawn} == set(report["features"])
