"""A gate verdict is bound to the model it judged: the real gate's gate.json, read by the
real release preconditions, package stage and model card (no hand-made verdicts)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from _project import BIN, repro, run
from pr2prod.config.release_schema import ReleaseConfig
from pr2prod.release.card import model_card
from pr2prod.release.preconditions import VerdictTarget, gate_passed, lock_fresh
from pr2prod.release.verdict import digest

pytestmark = [pytest.mark.slow]

PR2PROD = str(BIN / "pr2prod")
MODEL = Path("models/model")
GATE = Path("reports/gate.json")
CI_OUTPUTS = ReleaseConfig().ci_outputs


@pytest.fixture
def project(trained_project: Path, tmp_path: Path) -> Path:
    """A writable copy of the trained default project (its gate ran in ``dvc repro``)."""
    dest = tmp_path / "proj"
    shutil.copytree(trained_project, dest, symlinks=True)
    return dest


def _gate(project: Path) -> dict:
    return json.loads((project / GATE).read_text())


def test_the_gates_own_verdict_is_accepted_and_names_what_it_judged(project: Path):
    report = _gate(project)
    assert report["digest"] == digest(report)
    assert set(report["binding"]) == {"candidate", "production", "test_data", "gate_params"}
    assert report["binding"]["production"] is None  # main recorded no model yet
    assert gate_passed(project, VerdictTarget(MODEL, None)) is None
    card = model_card(project, "m", "v1.0.0", "abc", None, VerdictTarget(MODEL, None))
    assert report["binding"]["candidate"] in card and report["digest"] in card


def test_a_hand_edited_verdict_is_refused(project: Path):
    report = _gate(project)
    report["checks"][0]["candidate"] = 0.999  # a better number, typed by hand
    (project / GATE).write_text(json.dumps(report, indent=2))
    problem = gate_passed(project, VerdictTarget(MODEL, None))
    assert problem is not None and "does not match its digest" in problem
    card = model_card(project, "m", "v1.0.0", "abc", None, VerdictTarget(MODEL, None))
    assert "No valid gate verdict" in card and "0.999" not in card


def test_a_model_that_changed_after_the_gate_is_refused(project: Path):
    before = _gate(project)["binding"]["candidate"]
    run([PR2PROD, "compose", "model.C=0.05"], project)
    repro(project, "train")  # a new model next to the old PASS: never gated
    problem = gate_passed(project, VerdictTarget(MODEL, None))
    assert problem is not None
    assert f"judged model {before}" in problem and "changed after the gate" in problem
    # the package stage refuses it too, and leaves the previous Bento record alone
    bento = (project / "reports/bento.json").read_bytes()
    proc = run(["dvc", "repro", "--single-item", "package"], project, check=False)
    assert proc.returncode != 0 and "changed after the gate" in proc.stderr
    assert (project / "reports/bento.json").read_bytes() == bento


def test_a_verdict_against_another_production_is_refused(project: Path):
    problem = gate_passed(project, VerdictTarget(MODEL, "0123456789abcdef0123456789abcdef"))
    assert problem is not None and "production is now 0123456789abcdef" in problem


def _forge(project: Path) -> None:
    """Edit the verdict and recompute its digest: what the digest alone cannot catch."""
    report = _gate(project)
    report["checks"][0]["candidate"] = 0.999
    report["digest"] = digest(report)
    (project / GATE).write_text(json.dumps(report, indent=2))


def test_a_committed_forged_verdict_makes_the_gate_stage_stale(project: Path):
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "trained"], project)
    assert lock_fresh(project, ignore=CI_OUTPUTS) is None
    _forge(project)
    assert gate_passed(project, VerdictTarget(MODEL, None)) is None  # the digest matches
    run(["git", "commit", "-qam", "forged verdict"], project)
    problem = lock_fresh(project, ignore=CI_OUTPUTS)
    assert problem is not None and "gate (changed outs: reports/gate.json)" in problem
    assert "package (changed deps: reports/gate.json)" in problem


def test_a_verdict_the_release_job_regenerates_is_not_stale(project: Path):
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "trained"], project)
    _forge(project)  # uncommitted: as the release job's own `make gate-release` rewrites it
    assert lock_fresh(project, ignore=CI_OUTPUTS) is None
    problem = lock_fresh(project)  # without ci_outputs, the same change is stale
    assert problem is not None and "reports/gate.json" in problem
