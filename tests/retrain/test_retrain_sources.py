"""The other snapshot sources, on throw-away projects with real git and DVC: a ``dvc import``
refreshed by ``dvc update`` from a local data registry, a SQL window (SQLite) written to a
DVC-tracked Parquet file; and the feedback-loop guard at the prepare stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _retrain_project import FILE_OVERRIDES, START, TABLE, git, pr2prod, read_json, table

from _project import make_project, repro, run
from pr2prod.retrain.report import read_report

pytestmark = pytest.mark.slow


def registry_repo(path: Path, rows: pd.DataFrame) -> Path:
    """A data-registry git repository holding ``table.csv`` under DVC, with its own remote."""
    path.mkdir(parents=True)
    run(["git", "init", "-q", "-b", "main"], path)
    run(["dvc", "init", "-q"], path)
    run(["dvc", "remote", "add", "-d", "store", str(path.parent / "registry-remote")], path)
    publish(path, rows, "first table")
    return path


def publish(registry: Path, rows: pd.DataFrame, message: str) -> None:
    rows.to_csv(registry / "table.csv", index=False)
    run(["dvc", "add", "table.csv"], registry)
    run(["dvc", "push", "-q"], registry)
    run(["git", "add", "-A"], registry)
    run(["git", "commit", "-qm", message], registry)


def test_dvc_import_is_updated_from_the_registry(tmp_path: Path):
    registry = registry_repo(tmp_path / "registry", table(400, seed=1))
    project = make_project(tmp_path / "p", commit=False)
    run(["dvc", "import", str(registry), "table.csv", "-o", TABLE], project)
    pr2prod(project, "compose", *FILE_OVERRIDES)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "imported table"], project)
    old = yaml.safe_load((project / f"{TABLE}.dvc").read_text())

    origin = tmp_path / "origin.git"
    run(["git", "init", "-q", "--bare", str(origin)], tmp_path)
    run(["git", "remote", "add", "origin", str(origin)], project)
    publish(registry, pd.concat([table(400, seed=1), table(300, seed=5, first_id=400)]), "grown")
    proc = pr2prod(project, "retrain", "--force", "--push", "origin")
    assert "retrain: yes" in proc.stdout  # forced: no monitor report, no rule
    report = read_report(project / "reports/retrain.json")
    s = report.snapshot
    assert s is not None
    assert (s.source, s.old_rows, s.new_rows) == ("dvc_import", 400, 700)
    new = yaml.safe_load((project / f"{TABLE}.dvc").read_text())
    assert s.old_md5 == old["outs"][0]["md5"] != s.new_md5 == new["outs"][0]["md5"]
    # the pointer now pins the registry's newest commit
    assert new["deps"][0]["repo"]["rev_lock"] == git(registry, "rev-parse", "HEAD")
    assert old["deps"][0]["repo"]["rev_lock"] != new["deps"][0]["repo"]["rev_lock"]
    assert git(project, "branch", "--show-current") == "pr2prod/retrain"
    changed = git(project, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert f"{TABLE}.dvc" in changed
    assert "run forced" in (project / "reports/retrain.md").read_text()
    # --push: the branch is on the origin, the retrained model on the DVC remote (an import's
    # data stays in its registry: DVC fetches it from there, it never pushes it)
    pushed = git(project, "ls-remote", "origin", "refs/heads/pr2prod/retrain").split()[0]
    assert pushed == git(project, "rev-parse", "HEAD")
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    model = next(o for o in lock["stages"]["train"]["outs"] if o["path"] == "models/model")
    remote = tmp_path / "p-remote" / "files" / "md5"
    assert (remote / model["md5"][:2] / model["md5"][2:]).is_file()


def test_sql_window_becomes_a_tracked_parquet_snapshot(tmp_path: Path):
    import sqlalchemy as sa

    rows = table(900, seed=4)
    # one row every 4 minutes from START (naive UTC, as many warehouses store it)
    rows["ts"] = (START + pd.to_timedelta(np.arange(900) * 4, "min")).tz_localize(None)
    db = tmp_path / "warehouse.sqlite"
    engine = sa.create_engine(f"sqlite:///{db}")
    rows.to_sql("events", engine, index=False)
    engine.dispose()
    window = "data/raw/window.parquet"
    project = make_project(tmp_path / "p", commit=False)
    pr2prod(
        project,
        "compose",
        *FILE_OVERRIDES,
        f"data.path={window}",
        "retrain.snapshot.source=sql",
        f"retrain.snapshot.sql.url=sqlite:///{db}",
        "retrain.snapshot.sql.table=events",
        "retrain.snapshot.sql.window_column=ts",
        "retrain.snapshot.sql.window_days=1",
        "retrain.snapshot.sql.columns=[row_id,x0,x1,x2,x3,x4,x5,y]",
    )
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "sql-source project"], project)

    pr2prod(project, "retrain", "--force", "--end", "2026-03-02T12:00:00Z")
    report = read_report(project / "reports/retrain.json")
    s = report.snapshot
    assert s is not None
    # [03-01 12:00, 03-02 12:00): rows 180..539, one per 4 minutes = 360
    assert (s.source, s.old_md5, s.new_rows) == ("sql", None, 360)
    assert s.query == {
        "table": "events",
        "window_column": "ts",
        "start": "2026-03-01T12:00:00+00:00",
        "end": "2026-03-02T12:00:00+00:00",
        "rows": 360,
    }
    snap = pd.read_parquet(project / window)
    assert snap["row_id"].tolist() == list(range(180, 540))
    assert list(snap.columns) == ["row_id", "x0", "x1", "x2", "x3", "x4", "x5", "y"]
    pointer = yaml.safe_load((project / f"{window}.dvc").read_text())
    assert pointer["outs"][0]["md5"] == s.new_md5
    committed = git(project, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert f"{window}.dvc" in committed
    assert window not in committed  # the data goes to DVC, the pointer to git
    # the pipeline read the snapshot as a file source: 360 rows split 80/20
    assert read_json(project / "data/prepared/schema.json")["id_column"] == "row_id"
    assert "2026-03-01T12:00:00+00:00" in (project / "reports/retrain.md").read_text()


def test_feedback_guard_leaves_marked_rows_out_at_prepare(tmp_path: Path):
    rows = table(400, seed=6)
    rows["label_source"] = np.where(np.arange(400) % 4 == 0, "model_assisted", "human")
    project = make_project(tmp_path / "p", commit=False)
    rows.to_csv(project / TABLE, index=False)
    run(["dvc", "add", TABLE], project)
    pr2prod(
        project,
        "compose",
        *FILE_OVERRIDES,
        "data.feedback_guard.column=label_source",
        "data.feedback_guard.values=[model_assisted]",
    )
    out = repro(project, "prepare").stdout
    assert "feedback guard: left out 100 row(s) marked in 'label_source'" in out
    prepared = project / "data/prepared"
    train, test = (pd.read_parquet(prepared / f"{s}.parquet") for s in ("train", "test"))
    assert len(train) + len(test) == 300
    kept = set(train["row_id"]) | set(test["row_id"])
    assert kept == set(range(400)) - set(range(0, 400, 4))
    assert "label_source" not in train.columns
    schema = read_json(prepared / "schema.json")
    assert "label_source" not in {f["name"] for f in schema["features"]}
