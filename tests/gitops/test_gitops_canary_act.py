"""promote.yml under act on the host: abort retires the canary and pushes the tag to the
bare origin; a crafted `action` input is refused before any work; a committed, resealed
canary report that `pr2prod promote --report` would accept is never the evidence: the
promote job writes its own report, and promotes nothing without real traffic."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from _project import git, git_identity, job_results, make_project, run
from pr2prod.canary.admit import check_promotable, read_report
from pr2prod.canary.model import (
    Binding,
    CanaryReport,
    Comparison,
    LogCounts,
    Recommendation,
    Rules,
    VariantFigures,
)
from pr2prod.config import load_params
from pr2prod.logrecord.record import ModelRef
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
    git_identity(monkeypatch)
    proj = make_project(tmp_path / "proj")
    origin = tmp_path / "origin.git"
    run(["git", "init", "-q", "--bare", str(origin)], tmp_path)
    git(proj, "remote", "add", "origin", str(origin))
    _lock(proj, PROD_HASH)
    registry.register(proj, NAME, "v1.0.0")
    registry.assign(proj, NAME, "v1.0.0", "prod")
    _lock(proj, CANARY_HASH)  # retrained
    registry.register(proj, NAME, "v1.1.0")
    registry.assign(proj, NAME, "v1.1.0", "canary")
    git(proj, "push", "-q", "origin", "main", "--tags")
    return proj, origin


PROD_HASH = "a" * 32
CANARY_HASH = "b" * 32


def _lock(project: Path, md5: str) -> None:
    """Commit a dvc.lock that records ``md5`` as the model: the registry's artifact id."""
    lock = {"schema": "2.0", "stages": {"train": {"outs": [{"path": "models/model", "md5": md5}]}}}
    (project / "dvc.lock").write_text(yaml.safe_dump(lock))
    git(project, "add", "dvc.lock")
    git(project, "commit", "-q", "-m", f"model {md5[:4]}")


def _forged_report(project: Path) -> CanaryReport:
    """A report recommending promote for the registry's canary, sealed: no traffic behind it."""
    cfg = load_params(project / "params.yaml")
    figures = {"requests": 25, "labelled": 250, "latency_p50_ms": 10.0, "requests_ok": 249.0}
    when = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    return CanaryReport(
        log="logs/predictions",
        labels="labels.csv",
        metrics="metrics.txt",
        counts=LogCounts(
            files=1,
            lines=500,
            records=500,
            bad_lines=0,
            before_since=0,
            unlabelled=0,
            first=when,
            last=when,
        ),
        rules=Rules.of(cfg.canary),
        production=VariantFigures(
            records=250,
            hits=225,
            metric=0.9,
            latency_p95_ms=12.0,
            requests_error=1.0,
            error_rate=0.004,
            **figures,
        ),
        canary=VariantFigures(
            records=250,
            hits=240,
            metric=0.96,
            latency_p95_ms=12.0,
            requests_error=1.0,
            error_rate=0.004,
            **figures,
        ),
        comparison=Comparison(
            metric="accuracy", method="newcombe", improvement=0.06, lower=0.01, upper=0.11
        ),
        error_rate_increase=0.0,
        latency_ratio=1.0,
        recommendation=Recommendation.promote,
        reasons=[],
        binding=Binding(
            canary=ModelRef(model_name=NAME, model_version="v1.1.0", artifact_hash=CANARY_HASH),
            production=ModelRef(model_name=NAME, model_version="v1.0.0", artifact_hash=PROD_HASH),
        ),
    ).sealed()


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


@pytest.mark.slow
def test_a_committed_forged_canary_report_is_never_the_evidence(
    project: tuple[Path, Path], tmp_path: Path
) -> None:
    proj, origin = project
    forged = proj / "reports" / "canary.json"
    forged.parent.mkdir(exist_ok=True)
    forged.write_text(_forged_report(proj).model_dump_json(indent=2))
    cfg = load_params(proj / "params.yaml")
    # intact, and about the canary and production the registry holds: trusted, it would promote
    check_promotable(read_report(forged), cfg.canary, CANARY_HASH, PROD_HASH)
    git(proj, "add", "-f", "reports/canary.json")
    git(proj, "commit", "-q", "-m", "a canary report, figures typed by hand and resealed")
    git(proj, "push", "-q", "origin", "main")
    before = set(git(origin, "tag").split())
    proc = _act(proj, tmp_path, "promote")
    assert job_results(proc.stdout) == {"canary": "failure"}, proc.stdout[-3000:]
    # the job judges the traffic itself (there is none): nothing moved
    assert set(git(origin, "tag").split()) == before
    assert registry.stage_version(origin, NAME, "prod").version == "v1.0.0"
    assert registry.stage_version(origin, NAME, "canary").version == "v1.1.0"
