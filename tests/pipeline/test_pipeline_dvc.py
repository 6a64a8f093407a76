"""The real loop: conf/ -> params.yaml -> `dvc repro` / `dvc exp run` in temp git+DVC repos."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import yaml

from _project import copy_project, make_project, ran_stages, repro, run
from pr2prod.dvclock import dir_hash

pytestmark = pytest.mark.slow


def _lock_md5(project: Path, stage: str, out: str) -> str:
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return next(o["md5"] for o in lock["stages"][stage]["outs"] if o["path"] == out)


def _params(project: Path) -> dict:
    return yaml.safe_load((project / "params.yaml").read_text())


def _metrics(project: Path) -> dict:
    return json.loads((project / "metrics/metrics.json").read_text())


@pytest.mark.parametrize(
    ("overrides", "task", "metric"),
    [
        ((), "binary", "roc_auc"),
        (("data=wine", "model=random_forest"), "multiclass", "accuracy"),
        (("experiment=diabetes_hgb",), "regression", "rmse"),
    ],
)
def test_each_task_runs_through_dvc_repro(tmp_path: Path, overrides, task, metric) -> None:
    project = make_project(tmp_path / "p", overrides)
    out = repro(project).stdout
    assert ran_stages(out) == [
        "compose",
        "prepare",
        "validate",
        "train",
        "evaluate",
        "gate",
        "package",
    ]
    meta = json.loads((project / "models/model/metadata.json").read_text())
    assert meta["task"] == task
    metrics = _metrics(project)
    assert metric in metrics
    if task == "regression":
        assert metrics["r2"] > 0.2
        assert (project / "plots/residuals.json").exists()
    else:
        assert metrics["accuracy"] > 0.85
        assert (project / "plots/confusion.json").exists()
    again = repro(project).stdout
    assert ran_stages(again) == []


def test_editing_conf_reruns_only_affected_stages(tmp_path: Path, trained_project: Path) -> None:
    project = copy_project(trained_project, tmp_path / "p")
    model_file = project / "conf/model/logistic_regression.yaml"
    model_file.write_text(model_file.read_text().replace("C: 1.0", "C: 0.001"))
    out = repro(project).stdout
    assert ran_stages(out) == ["compose", "train", "evaluate", "gate", "package"]
    assert _params(project)["model"]["C"] == 0.001
    assert run(["pr2prod", "check"], project).returncode == 0
    # the new value really trained: strong regularisation changes the model's predictions
    assert _metrics(project)["log_loss"] > 0.2


def test_exp_run_switches_a_group_and_sets_a_value(tmp_path: Path, trained_project: Path) -> None:
    project = copy_project(trained_project, tmp_path / "p")
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "baseline"], project)
    # a weaker model: the experiment is recorded whatever the gate says
    run(["dvc", "exp", "run", "-S", "model=random_forest"], project)
    params = _params(project)
    assert params["model"]["_target_"] == "sklearn.ensemble.RandomForestClassifier"
    assert set(params["compose"]["overrides"]) == {"model=random_forest"}
    meta = json.loads((project / "models/model/metadata.json").read_text())
    assert meta["model_name"] == "random_forest"
    run(["dvc", "exp", "run", "-S", "model.n_estimators=7"], project)
    params = _params(project)
    assert params["model"]["n_estimators"] == 7
    assert set(params["compose"]["overrides"]) == {
        "model=random_forest",
        "model.n_estimators=7",
    }
    assert run(["pr2prod", "check"], project).returncode == 0


def test_queued_sweep_gives_matching_params(tmp_path: Path, trained_project: Path) -> None:
    project = copy_project(trained_project, tmp_path / "p")
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "baseline"], project)
    run(["dvc", "exp", "run", "--queue", "-S", "model.C=0.01,10"], project)
    run(["dvc", "queue", "start"], project)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = run(["dvc", "queue", "status"], project).stdout
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(2)
    assert "Failed" not in status, status
    shown = json.loads(run(["dvc", "exp", "show", "--json"], project).stdout)
    found = {}
    for commit in shown:
        for exp in commit.get("experiments") or []:
            for rev in exp.get("revs", []):
                data = rev.get("data") or {}
                c = data["params"]["params.yaml"]["data"]["model"]["C"]
                metrics = data["metrics"]["metrics/metrics.json"]["data"]
                found[c] = metrics["log_loss"]
    assert set(found) == {0.01, 10}
    assert found[0.01] != found[10]


def test_sklearn_pipeline_is_reproducible_bit_for_bit(tmp_path: Path) -> None:
    a = make_project(tmp_path / "a", ["model=random_forest"])
    b = make_project(tmp_path / "b", ["model=random_forest"])
    repro(a)
    repro(b)
    for stage, out in (("prepare", "data/prepared"), ("train", "models/model")):
        assert _lock_md5(a, stage, out) == _lock_md5(b, stage, out)
    # and forcing a rerun in place gives the same hash again
    before = _lock_md5(a, "train", "models/model")
    run(["dvc", "repro", "-f", "train"], a)
    assert _lock_md5(a, "train", "models/model") == before


def test_torch_mlp_is_reproducible_bit_for_bit(tmp_path: Path) -> None:
    a = make_project(tmp_path / "a", ["experiment=wine_mlp", "model.max_epochs=15"])
    b = make_project(tmp_path / "b", ["experiment=wine_mlp", "model.max_epochs=15"])
    repro(a)
    repro(b)
    assert _lock_md5(a, "train", "models/model") == _lock_md5(b, "train", "models/model")
    assert _metrics(a)["accuracy"] > 0.8
    assert (a / "reports/train/dvclive/metrics.json").exists()  # per-epoch DVCLive log


@pytest.mark.parametrize(
    ("edit", "stage", "message"),
    [
        (
            ("conf/model/logistic_regression.yaml", "C: 1.0", "C: 1.0\ntypo_key: 1"),
            "compose",
            "typo_key",
        ),
        (
            (
                "conf/model/logistic_regression.yaml",
                "sklearn.linear_model.LogisticRegression",
                "subprocess.Popen",
            ),
            "compose",  # refused before params.yaml or dvc.lock is written
            "'subprocess.Popen' is not allowed",
        ),
        (
            ("conf/model/logistic_regression.yaml", "max_iter: 1000", "max_iter: -3"),
            "compose",  # outside the schema's range: refused before anything is written
            "model.max_iter: Input should be greater than or equal to 1",
        ),
        (
            ("conf/config.yaml", "data: breast_cancer", "data: file"),
            "prepare",
            "data/raw/my_table.csv does not exist",
        ),
    ],
)
def test_bad_config_fails_clearly_and_keeps_previous_artifacts(
    tmp_path: Path, trained_project: Path, edit, stage: str, message: str
) -> None:
    project = copy_project(trained_project, tmp_path / "p")
    model_md5 = dir_hash(project / "models/model")
    prepared_md5 = dir_hash(project / "data/prepared")
    lock_before = (project / "dvc.lock").read_text()
    path, old, new = edit
    f = project / path
    f.write_text(f.read_text().replace(old, new))
    params_before = (project / "params.yaml").read_text()
    proc = run(["dvc", "repro"], project, check=False)
    assert proc.returncode != 0
    assert f"failed to reproduce '{stage}'" in proc.stderr
    assert message in proc.stdout + proc.stderr
    assert dir_hash(project / "models/model") == model_md5
    assert dir_hash(project / "data/prepared") == prepared_md5
    assert "typo_key" not in (project / "params.yaml").read_text()
    if stage == "compose":
        assert (project / "params.yaml").read_text() == params_before
        assert (project / "dvc.lock").read_text() == lock_before


def test_push_then_pull_into_a_second_clone_restores_identical_files(
    tmp_path: Path, trained_project: Path
) -> None:
    project = copy_project(trained_project, tmp_path / "p", remote=tmp_path / "remote")
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "trained"], project)
    run(["dvc", "push"], project)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(project), str(clone)], tmp_path)
    assert not (clone / "models/model").exists()
    run(["dvc", "pull"], clone)
    for out in ("models/model", "data/prepared"):
        assert dir_hash(clone / out) == dir_hash(project / out)
    status = run(["dvc", "status", "dvc.yaml"], clone).stdout
    assert "up to date" in status
    assert ran_stages(run(["dvc", "repro"], clone).stdout) == []  # nothing retrains
    shutil.rmtree(clone / "models")
    run(["dvc", "checkout"], clone)
    assert dir_hash(clone / "models/model") == dir_hash(project / "models/model")


def test_own_table_tracked_by_a_dvc_pointer_runs_through_the_pipeline(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    project = make_project(tmp_path / "p")
    rng = np.random.default_rng(0)
    n = 300
    plan = rng.choice(["basic", "pro", "team"], n)
    age = rng.integers(18, 80, n)
    churn = ((plan == "basic") & (age < 40)).astype(int)
    pd.DataFrame({"Customer ID": np.arange(n), "age": age, "plan": plan, "churned": churn}).to_csv(
        project / "data/raw/customers.csv", index=False
    )
    run(["dvc", "add", "data/raw/customers.csv"], project)
    assert (project / "data/raw/customers.csv.dvc").exists()
    run(
        [
            "pr2prod",
            "compose",
            "data=file",
            "data.path=data/raw/customers.csv",
            "data.target=churned",
            "data.id_column=customer_id",
        ],
        project,
    )
    repro(project)
    schema = json.loads((project / "models/model/schema.json").read_text())
    assert schema["id_column"] == "customer_id"
    kinds = {f["name"]: f["kind"] for f in schema["features"]}
    assert kinds == {"age": "numeric", "plan": "categorical"}
    assert _metrics(project)["accuracy"] > 0.8
