"""Contract: the real `pr2prod score` writes Parquet (and SQLite); the real `pr2prod monitor`
(``monitor.source=scored``) reads what it wrote: every accepted row once, no rejected row,
prediction drift on the scored predictions, labels joined by the data's own id column."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from _project import BIN, make_project, repro, run

pytestmark = pytest.mark.slow

ID = "patient_id"  # the data's id column (not the scored format's `row_id`)
N = 240  # > monitor.drift.min_rows once the rejects are gone
CHUNK = 64  # several chunks, so "exactly once" spans chunk boundaries
REJECTED = {  # input position -> why the acceptance rule (or the id check) refuses it
    3: "missing value (acceptance.missing_value: reject)",
    8: "larger than acceptance.max_abs_value",
    70: "duplicate id within its chunk",
    130: "missing id",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default project whose data names its id column ``patient_id``, trained."""
    proj = make_project(
        tmp_path_factory.mktemp("batch_contract") / "proj", [f"data.id_column={ID}"]
    )
    repro(proj, "train")
    return proj


def _input_table(project: Path, path: Path) -> pd.DataFrame:
    """N rows of the prepared data with text ids, a timestamp and the REJECTED rows planted."""
    prepared = pd.concat(
        [pd.read_parquet(project / "data/prepared" / f"{s}.parquet") for s in ("train", "test")]
    )
    df = prepared.sample(N, random_state=11).reset_index(drop=True)
    df[ID] = [f"P-{i:04d}" for i in range(N)]
    df["event_time"] = pd.Timestamp("2026-05-01T00:00:00Z") + pd.to_timedelta(
        np.arange(N) * 3 * 86400 / N, "s"
    )
    df.loc[3, "mean_radius"] = np.nan
    df.loc[8, "mean_texture"] = 1e13
    df.loc[70, ID] = df.loc[69, ID]
    df[ID] = df[ID].astype(object)
    df.loc[130, ID] = None
    df.drop(columns="target").to_csv(path, index=False)
    return df


def test_monitor_reads_what_score_wrote(project: Path, tmp_path: Path) -> None:
    model_dir = project / "models/model"
    schema = json.loads((model_dir / "schema.json").read_text())
    assert schema["id_column"] == ID
    df = _input_table(project, tmp_path / "batch.csv")
    accepted = df.drop(index=list(REJECTED))

    db = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    pr2prod = str(BIN / "pr2prod")
    params = ["--params", str(project / "params.yaml"), "--model", str(model_dir)]
    run(
        [
            *(pr2prod, "score", "--no-progress", *params, "--input", str(tmp_path / "batch.csv")),
            *("--parquet", str(tmp_path / "scored"), "--db", db, "--chunk-rows", str(CHUNK)),
            *("--summary", str(tmp_path / "score.json")),
        ],
        tmp_path,
    )
    summary = json.loads((tmp_path / "score.json").read_text())
    assert (summary["rows_in"], summary["rows_rejected"]) == (N, len(REJECTED))
    scored = pd.read_parquet(tmp_path / "scored/predictions.parquet")
    rejects = pd.read_parquet(tmp_path / "scored/rejects.parquet")
    assert sorted(rejects["input_row"]) == sorted(REJECTED)
    assert sorted(scored["row_id"].astype(str)) == sorted(accepted[ID])  # the writer's truth
    engine = sa.create_engine(db)
    try:
        stored = pd.read_sql_table("predictions", engine)
    finally:
        engine.dispose()
    assert dict(zip(stored["row_id"].astype(str), stored["prediction"], strict=True)) == dict(
        zip(scored["row_id"].astype(str), scored["prediction"], strict=True)
    )

    # labels arrive later for every third row, keyed by the data's id column; one label is
    # for a rejected row's id, which has no prediction and must not join
    part = df.iloc[::3]
    part = part[part[ID].notna()]
    pd.DataFrame({ID: part[ID], "target": part["target"]}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    labelled = set(part[ID]) & set(accepted[ID])
    assert "P-0003" in set(part[ID]) - labelled  # input row 3: rejected, yet labelled

    monitor_params = yaml.safe_load((project / "params.yaml").read_text())
    monitor_params["monitor"]["timestamp_column"] = "event_time"
    monitor_params["monitor"]["alert"]["exit_code"] = 0
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(monitor_params))
    run(
        [
            *(pr2prod, "monitor", "--params", str(tmp_path / "params.yaml")),
            *("--model", str(model_dir), "--source", "scored"),
            *("--scored-input", str(tmp_path / "batch.csv")),
            *("--scored-predictions", str(tmp_path / "scored/predictions.parquet")),
            *("--labels", str(tmp_path / "labels.csv")),
        ],
        tmp_path,
    )
    report = json.loads((tmp_path / "reports/monitor.json").read_text())
    n = len(accepted)
    assert report["window"]["rows"] == report["window"]["records"] == n  # each accepted once
    assert sum(v["n"] for v in report["volume"]) == n
    assert report["model_versions"] == {str(scored["model_version"].iloc[0]): n}
    assert report["prediction"]["evaluated"]
    counts = Counter(str(p) for p in scored["prediction"])
    assert report["prediction"]["frequencies"] == pytest.approx(
        {k: counts.get(k, 0) / n for k in report["prediction"]["frequencies"]}
    )
    assert set(counts) <= set(report["prediction"]["frequencies"])
    assert report["performance"]["labelled_rows"] == len(labelled)
