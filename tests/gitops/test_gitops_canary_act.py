"""promote.yml under act on the host: abort retires the canary and pushes the tag to the
bare origin; a crafted `action` input is refused before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from _project import env, git, job_results, make_project, run
from pr2prod.release import registry

pytestmark = [pytest.mark.e2e]

BIN = Path(sys.executable).parent
NAME = "pr2prod-model"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A project with v1.0.0 in prod and v1.1.0 in canary, its tags on a bare origin."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PR2PROD_ACT_ARTIFACTS", str(tmp_path / "artifacts"))
    for key in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(key, env()[key])
    proj = make_project(tmp_path / "proj")
    origin = tmp_path / "origin.git"
    run(["git", "init", "-q", "--bare", str(origin)], tmp_path)
    git(proj, "remote", "add", "origin", str(origin))
    registry.register(proj, NAME, "v1.0.0")
    registry.assign(proj, NAME, "v1.0.0", "prod")
    git(proj, "commit", "-q", "--allow-empty", "-m", "retrained")
    registry.register(proj, NAME, "v1.1.0")
    registry.assign(proj, NAME, "v1.1.0", "canary")
    git(proj, "push", "-q", "origin", "main", "--tags")
    return proj, origin


def _act(project: Path, tmp_path: Path, action: str) -> subprocess.CompletedProcess[str]:
    args = ["workflow_dispatch", "-W", ".github/workflows/promote.yml", "--input"]
    cmd = [str(BIN / "pr2prod"), "ci", *args, f"action={action}", "--json"]
    return run([*cmd, "--action-cache-path", str(tmp_path / "c")], project, check=False)


@pytest.mark.slow
def test_abort_pushes_the_canary_retirement(project: tuple[Path, Path], tmp_path: Path) -> None:
    proj, origin = project
    proc = _act(proj, tmp_path, "abort")
    assert job_results(proc.stdout) == {"canary": "success"}, proc.stdout[-3000:]
    tags = set(git(origin, "tag").split())
    assert f"{NAME}#canary!#3" in tags
    assert registry.stage_version(origin, NAME, "canary") is None
    assert registry.stage_version(origin, NAME, "prod").version == "v1.0.0"


@pytest.mark.slow
def test_a_crafted_action_is_refused(project: tuple[Path, Path], tmp_path: Path) -> None:
    proj, origin = project
    marker = tmp_path / "PWNED"
    proc = _act(proj, tmp_path, f"abort; touch {marker}")
    assert job_results(proc.stdout) == {"canary": "failure"}, proc.stdout[-3000:]
    assert "is not one of promote, abort" in proc.stdout + proc.stderr
    assert not marker.exists()
    assert f"{NAME}#canary!#3" not in git(origin, "tag").split()
