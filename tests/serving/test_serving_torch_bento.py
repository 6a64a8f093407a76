"""A torch MLP Bento: built with the packages the model needs (torch, skorch, pinned to the
versions it was trained with), served from the Bento store with `bentoml serve <tag>`, and
answering with `models/model`'s own predictions."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from _project import BIN, make_project, repro, run
from _serving import HOST, Server, free_port
from pr2prod.lockfile import canonical, lock_path, read_pins
from pr2prod.models.persist import load_artifact

pytestmark = [pytest.mark.slow]

ROWS = 40


def _requirements(bentoml_home: Path, tag: str) -> list[str]:
    """The requirement lines the Bento was built with (its ``env/python/requirements.txt``)."""
    name, version = tag.split(":")
    path = bentoml_home / "bentos" / name / version / "env" / "python" / "requirements.txt"
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def test_torch_bento_pins_its_packages_and_serves_the_models_predictions(
    tmp_path: Path, bentoml_home: Path
) -> None:
    project = make_project(tmp_path / "proj", ["model=torch_mlp"])
    repro(project, "gate")  # `pr2prod build` builds only a model the gate passed
    model_dir = project / "models" / "model"
    meta = json.loads((model_dir / "metadata.json").read_text())
    assert meta["model_name"] == "torch_mlp"

    run([str(BIN / "pr2prod"), "build", "--report", str(tmp_path / "bento.json")], project)
    tag = json.loads((tmp_path / "bento.json").read_text())["bento_tag"]
    reqs = _requirements(bentoml_home, tag)
    for lib in ("torch", "skorch", "scikit-learn", "skops"):  # pinned as trained
        assert f"{lib}=={meta['libraries'][lib]}" in reqs, reqs
    assert not any(r.split("=")[0] in ("torch", "skorch") and "==" not in r for r in reqs)
    # bentofile.yaml's packages (names only) at the lock's versions (pr2prod.serving.lockpins)
    bentofile = yaml.safe_load((project / "bentofile.yaml").read_text())
    pins = read_pins(lock_path(project, bentofile["docker"]["python_version"]))
    for name in bentofile["python"]["packages"]:
        assert f"{name}=={pins[canonical(name)]}" in reqs, (name, reqs)

    model = load_artifact(model_dir)
    names = model.schema.feature_names
    test = pd.read_parquet(project / "data" / "prepared" / "test.parquet").head(ROWS)
    expected_labels = model.pipeline.predict(test[names]).tolist()
    expected_proba = model.pipeline.predict_proba(test[names])
    classes = [str(c) for c in model.pipeline.classes_]

    port = free_port()
    server = Server(
        [str(BIN / "bentoml"), "serve", tag, "--host", HOST, "--port", str(port)],
        cwd=tmp_path,  # not the project: everything comes from the Bento store
        log=tmp_path / "bento.log",
        port=port,
        extra_env={},
    )
    try:
        server.wait_ready()
        reply = httpx.post(
            f"{server.base_url}/predict_batch",
            json={"records": test[names].to_dict("records")},
            timeout=60,
        )
    finally:
        server.stop()
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["model_name"] == "torch_mlp"
    served = body["predictions"]
    assert [p["label"] for p in served] == expected_labels
    for got, want in zip(served, expected_proba, strict=True):
        assert [got["probabilities"][c] for c in classes] == pytest.approx(
            want.tolist(), rel=1e-6, abs=1e-9
        )
