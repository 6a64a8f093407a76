"""One artifact identity: pr2prod's artifact_id is exactly the hash DVC records in dvc.lock."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from pr2prod.models.identity import artifact_id


def _locked(project: Path) -> str:
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    out = next(o for o in lock["stages"]["train"]["outs"] if o["path"] == "models/model")
    return out["md5"].removesuffix(".dir")


def test_artifact_id_is_dvc_lock_hash(trained_project: Path) -> None:
    assert artifact_id(trained_project / "models/model") == _locked(trained_project)


def test_artifact_id_ignores_foreign_files_and_sees_content(
    trained_project: Path, tmp_path: Path
) -> None:
    copy = Path(shutil.copytree(trained_project / "models/model", tmp_path / "m"))
    (copy / "bentoml_model.yaml").write_text("added by a model store\n")
    assert artifact_id(copy) == _locked(trained_project)
    meta = copy / "metadata.json"
    meta.write_text(meta.read_text().replace("breast_cancer", "breast_cancer2"))
    assert artifact_id(copy) != _locked(trained_project)
