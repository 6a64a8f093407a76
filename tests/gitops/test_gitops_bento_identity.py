"""The Bento's identity and the package stage's inputs are one fact (a fresh clone proves it).

The package stage declares what the Bento's version digests (model, params, bentofile.yaml,
the build context ``src/``), so a fresh clone with an empty Bento store reproduces the
committed ``reports/bento.json`` bit for bit: ``dvc repro -f`` leaves ``git status`` clean
and the Bento it names is in the store.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from _project import BIN, ROOT, run

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _commit(project: Path, message: str) -> None:
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", message], project)


def test_the_package_stage_declares_the_build_context_the_bento_digests() -> None:
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["package"]
    assert "src" in stage["deps"] and "bentofile.yaml" in stage["deps"]
    for key in ("serve", "acceptance"):  # the Bento's arguments
        assert key in stage["params"]
    # the trust policy (the team's packages the Bento may load) is code, not params.yaml
    assert {"pyproject.toml": ["tool.pr2prod"]} in stage["params"]


def test_a_fresh_clone_rebuilds_the_committed_bento_and_stays_clean(
    trained_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = tmp_path / "origin"
    shutil.copytree(trained_project, origin, symlinks=True)
    remote = tmp_path / "remote"
    remote.mkdir()
    run(["dvc", "remote", "modify", "--local", "local", "url", str(remote)], origin)
    # production = main's model: commit it, rerun once against it (the fixed point), commit
    _commit(origin, "trained")
    run(["dvc", "repro", "-f"], origin, timeout=1800)
    _commit(origin, "gated against production")
    run(["dvc", "push", "-q"], origin)
    committed = json.loads((origin / "reports/bento.json").read_text())
    assert committed["built"] is True

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(origin), str(clone)], tmp_path)
    run(["dvc", "remote", "modify", "--local", "local", "url", str(remote)], clone)
    run(["dvc", "pull", "-q"], clone)
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "empty-bento-store"))
    assert run(["dvc", "status", "--json", "dvc.yaml"], clone).stdout.strip() == "{}"
    run(["dvc", "repro", "-f"], clone, timeout=1800)
    assert run(["git", "status", "--porcelain"], clone).stdout == ""
    tag = json.loads((clone / "reports/bento.json").read_text())["bento_tag"]
    assert tag == committed["bento_tag"]
    got = run([str(BIN / "bentoml"), "get", tag, "-o", "json"], clone)
    assert json.loads(got.stdout)["name"] == tag.split(":")[0]
