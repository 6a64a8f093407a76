"""The package stage: model store entry with labels, a Bento, and reports/bento.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from _project import BIN, run
from pr2prod.models.identity import artifact_id

pytestmark = pytest.mark.slow


def test_package_stage_records_bento_and_model_labels(trained_project: Path) -> None:
    report = json.loads((trained_project / "reports" / "bento.json").read_text())
    model_dir = trained_project / "models" / "model"
    assert report["artifact_hash"] == artifact_id(model_dir)
    meta = json.loads((model_dir / "metadata.json").read_text())
    assert report["model_tag"] == f"{meta['model_name']}:{report['labels']['version']}"
    info = yaml.safe_load(
        run(
            [str(BIN / "bentoml"), "models", "get", report["model_tag"], "-o", "yaml"],
            trained_project,
        ).stdout
    )
    labels = info["labels"]
    assert labels["artifact_hash"] == report["artifact_hash"]
    assert labels["data_hash"] == meta["data_hash"]
    head = run(["git", "rev-parse", "HEAD"], trained_project).stdout.strip()
    assert labels["git_commit"] == head
    # JSON: `-o yaml` is printed through a console that wraps long values (the Bento args)
    bento = json.loads(
        run(
            [str(BIN / "bentoml"), "get", report["bento_tag"], "-o", "json"], trained_project
        ).stdout
    )
    assert [m["tag"] for m in bento["services"][0]["models"]] == [report["model_tag"]]
    assert bento["args"]["model_tag"] == report["model_tag"]
    assert "trusted_packages" not in bento["args"]  # allowed_targets: the libraries only


def test_package_is_up_to_date_and_build_cli_reuses_the_model(
    trained_project: Path, tmp_path: Path
) -> None:
    status = run(["dvc", "status", "package"], trained_project).stdout
    assert "changed" not in status
    out = tmp_path / "bento.json"
    run([str(BIN / "pr2prod"), "build", "--report", str(out)], trained_project)
    first = json.loads((trained_project / "reports" / "bento.json").read_text())
    again = json.loads(out.read_text())
    # same inputs -> same model store entry and the same Bento: the report reproduces
    assert again == first
    assert "git_commit" not in first["labels"]


def test_package_runs_after_evaluate_in_the_pipeline(trained_project: Path) -> None:
    # dvc.lock holds the resolved stage (dvc.yaml spells paths as ${paths.*})
    locked = yaml.safe_load((trained_project / "dvc.lock").read_text())["stages"]["package"]
    assert "models/model" in [d["path"] for d in locked["deps"]]
    # serve config, plus what names current production (the sealed verdict must be about it)
    assert set(locked["params"]["params.yaml"]) == {
        "paths",
        "serve",
        "acceptance",
        "gate.baseline",
        "release.model_name",
        "release.stage",
    }
    assert "reports/gate.json" in [d["path"] for d in locked["deps"]]
