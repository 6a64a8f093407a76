"""``pr2prod gate`` and ``pr2prod build`` on real artifacts: a FAIL is 1 (refused), "cannot
compare" is 3, while the pipeline's gate and package stages record the same FAIL and exit 0.

A released project (first model on ``main``, pushed to a DVC remote) and a clone proposing
a much weaker model (``model.C=1e-5``), reproduced up to ``evaluate``; no mocks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from _project import BIN, make_project, repro, run

pytestmark = pytest.mark.slow

PR2PROD = str(BIN / "pr2prod")


@pytest.fixture(scope="module")
def worse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of a released project whose candidate is much worse than production."""
    base = tmp_path_factory.mktemp("cli_gate")
    released = make_project(base / "released")
    repro(released)
    run(["git", "add", "-A"], released)
    run(["git", "commit", "-qm", "release"], released)
    run(["dvc", "push", "-q"], released)
    clone = base / "worse"
    run(["git", "clone", "-q", str(released), str(clone)], base)
    run(["dvc", "pull", "-q"], clone)
    run([PR2PROD, "compose", "model.C=1e-5"], clone)
    repro(clone, "evaluate")  # the candidate; the gate runs below, from the CLI
    return clone


def test_a_fail_verdict_exits_1_naming_the_checks(worse: Path) -> None:
    proc = run([PR2PROD, "gate"], worse, check=False)
    assert proc.returncode == 1, proc.stderr
    report = json.loads((worse / "reports/gate.json").read_text())
    assert report["verdict"] == "fail" and "enforced" not in report
    assert "metric:accuracy" in report["failed"]
    assert "FAIL" in proc.stdout  # the verdict line
    assert proc.stderr.startswith("error: gate FAIL: ")
    assert "metric:accuracy" in proc.stderr and "not releasable" in proc.stderr
    metrics = json.loads((worse / "metrics/gate.json").read_text())
    assert metrics["passed"] == 0 and metrics["worst_slack"] < 0


def test_build_refuses_the_fail_the_package_stage_records(worse: Path, tmp_path: Path) -> None:
    project = tmp_path / "build"
    shutil.copytree(worse, project, symlinks=True)
    run([PR2PROD, "gate"], project, check=False)  # the FAIL verdict, bound to this model
    before = (project / "reports/bento.json").read_bytes()
    proc = run([PR2PROD, "build"], project, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "build refused: not built: the gate failed" in proc.stderr
    assert "metric:accuracy" in proc.stderr
    assert (project / "reports/bento.json").read_bytes() == before  # nothing written
    # the stage, same implementation: records it and exits 0 (dvc exp run keeps the run)
    proc = run(["dvc", "repro"], project)
    assert "[package] not built: the gate failed" in proc.stdout
    bento = json.loads((project / "reports/bento.json").read_text())
    assert bento == {
        "artifact_hash": bento["artifact_hash"],
        "bento_tag": None,
        "built": False,
        "failed": json.loads((project / "reports/gate.json").read_text())["failed"],
        "labels": {},
        "model_tag": None,
        "reason": bento["reason"],
    }
    assert bento["reason"].startswith("not built: the gate failed (metric:accuracy")


def test_gate_params_names_the_paths_it_writes(worse: Path, tmp_path: Path) -> None:
    """`pr2prod gate --params other.yaml` reads and writes other.yaml's paths, as the stage."""
    project = tmp_path / "other"
    shutil.copytree(worse, project, symlinks=True)
    before = (project / "reports/gate.json").read_bytes()
    run([PR2PROD, "compose", "paths.gate_json=reports/other/gate.json"], project)
    run(["cp", "params.yaml", "other.yaml"], project)
    run(["git", "checkout", "-q", "--", "params.yaml"], project)
    proc = run([PR2PROD, "gate", "--params", "other.yaml"], project, check=False)
    assert proc.returncode == 1, proc.stderr
    assert json.loads((project / "reports/other/gate.json").read_text())["verdict"] == "fail"
    assert (project / "reports/gate.json").read_bytes() == before


def test_on_missing_fail_refuses_an_unreachable_production_with_exit_3(
    worse: Path, tmp_path: Path
) -> None:
    project = tmp_path / "nocache"
    shutil.copytree(worse, project, symlinks=True)
    shutil.rmtree(project / ".dvc" / "cache")
    empty = tmp_path / "empty-remote"
    empty.mkdir()
    run(["dvc", "remote", "modify", "--local", "local", "url", str(empty)], project)
    # params.yaml keeps the default (rebuild); the option alone makes the gate fail closed
    assert "on_missing: rebuild" in (project / "params.yaml").read_text()
    proc = run([PR2PROD, "gate", "--on-missing", "fail"], project, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "gate.baseline.on_missing=fail" in proc.stderr
    assert "Traceback" not in proc.stderr
