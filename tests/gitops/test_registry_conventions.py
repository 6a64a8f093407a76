"""The registry as GTO and DVC see it: dvc.yaml's ``artifacts:`` block, GTO's declared stages.

``.gto`` declares the stages (``canary``, ``prod``), so ``gto`` itself refuses a mistyped
one; ``dvc.yaml`` names the artifact (``release.model_name``) with its path and type; and
``gto show`` agrees with ``pr2prod registry`` on versions and stage holders.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from _project import BIN, make_project, run

ROOT = Path(__file__).resolve().parents[2]
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))


@pytest.mark.unit
def test_the_artifacts_block_and_the_gto_stages_match_the_release_config() -> None:
    release = PARAMS["release"]
    artifacts = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["artifacts"]
    assert list(artifacts) == [release["model_name"]]
    entry = artifacts[release["model_name"]]
    assert entry["path"] == PARAMS["paths"]["model"]
    assert entry["type"] == "model"
    gto = yaml.safe_load((ROOT / ".gto").read_text(encoding="utf-8"))
    assert set(gto["stages"]) == {release["stage"], release["canary_stage"]}
    assert gto["types"] == ["model"]


@pytest.mark.integration
def test_gto_refuses_a_mistyped_stage_and_agrees_with_pr2prod_registry(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    name = PARAMS["release"]["model_name"]
    run(["gto", "register", name, "--version", "v0.1.0"], project)
    refused = run(
        ["gto", "assign", name, "--version", "v0.1.0", "--stage", "prood"], project, check=False
    )
    assert refused.returncode != 0
    assert "Allowed stages are" in refused.stdout + refused.stderr
    assert "prood" not in run(["git", "tag"], project).stdout
    run(["gto", "assign", name, "--version", "v0.1.0", "--stage", "prod"], project)

    shown = json.loads(run(["gto", "show", "--json"], project).stdout)[name]
    assert shown["version"] == "v0.1.0"
    assert shown["stage"] == {"canary": None, "prod": "v0.1.0"}
    assert run(["gto", "stages"], project).stdout.split() == ["canary", "prod"]

    listed = run([str(BIN / "pr2prod"), "registry"], project).stdout
    lines = [ln for ln in listed.splitlines() if ln.startswith(f"{name}@")]
    assert len(lines) == 1, listed
    assert re.match(rf"{re.escape(name)}@v0\.1\.0\s.*<- prod$", lines[0]), lines[0]
