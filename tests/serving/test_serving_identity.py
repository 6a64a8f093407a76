"""One model, one version: serving, batch and the Bento label name an artifact by the hash
DVC records for it in ``dvc.lock``."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from pr2prod.batch.resolve import model_version
from pr2prod.models.persist import load_artifact
from pr2prod.serving.package import model_labels
from pr2prod.serving.predictor import Predictor


def _dvc_md5(project: Path, out: str) -> str:
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    entry = next(o for o in lock["stages"]["train"]["outs"] if o["path"] == out)
    return str(entry["md5"]).removesuffix(".dir")


def test_serving_and_batch_report_one_version_equal_to_dvc(trained_project: Path) -> None:
    model_dir = trained_project / "models" / "model"
    served = Predictor.from_dir(model_dir).info
    batch = model_version(load_artifact(model_dir))
    locked = _dvc_md5(trained_project, "models/model")
    assert served.artifact_hash == batch.artifact_hash == locked
    assert served.version == batch.version == locked[:12]
    assert model_labels(model_dir, None)["artifact_hash"] == locked


def test_store_files_next_to_the_artifact_change_no_version(
    trained_project: Path, tmp_path: Path
) -> None:
    copy = Path(shutil.copytree(trained_project / "models" / "model", tmp_path / "m"))
    (copy / "model.yaml").write_text("added by a model store\n")
    assert Predictor.from_dir(copy).info.artifact_hash == _dvc_md5(trained_project, "models/model")
