"""``pr2prod gate`` exit codes on real artifacts: FAIL is 1, "cannot compare" is 3.

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


def test_an_enforced_fail_verdict_exits_1_naming_the_checks(worse: Path) -> None:
    proc = run([PR2PROD, "gate"], worse, check=False)
    assert proc.returncode == 1, proc.stderr
    report = json.loads((worse / "reports/gate.json").read_text())
    assert report["verdict"] == "fail" and report["enforced"]
    assert "metric:accuracy" in report["failed"]
    assert "FAIL" in proc.stdout  # the verdict line
    assert proc.stderr.startswith("error: gate FAIL: ")
    assert "metric:accuracy" in proc.stderr


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
