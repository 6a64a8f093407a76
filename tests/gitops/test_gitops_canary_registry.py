"""The canary stage in the GTO registry: release via canary, promote, abort (real git + GTO)."""

from __future__ import annotations

from pathlib import Path

import pytest

from _project import git, git_identity
from pr2prod.config.release_schema import ReleaseConfig
from pr2prod.release import flow, registry

pytestmark = [pytest.mark.integration]

NAME = "pr2prod-model"
CFG = ReleaseConfig(model_name=NAME, via_canary=True)


@pytest.fixture(autouse=True)
def _identity(monkeypatch: pytest.MonkeyPatch) -> None:
    git_identity(monkeypatch)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """v1.0.0 in prod, v1.1.0 (a later commit) in canary."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "first model")
    registry.register(tmp_path, NAME, "v1.0.0")
    registry.assign(tmp_path, NAME, "v1.0.0", "prod")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "retrained model")
    registry.register(tmp_path, NAME, "v1.1.0")
    registry.assign(tmp_path, NAME, "v1.1.0", "canary")
    return tmp_path


def _holders(repo: Path) -> dict[str, list[str]]:
    return {v.version: v.stages for v in registry.list_versions(repo, NAME, ("prod", "canary"))}


def test_release_stage_goes_to_canary_only_after_the_first_release() -> None:
    assert flow.release_stage(CFG, has_production=False) == "prod"
    assert flow.release_stage(CFG, has_production=True) == "canary"
    assert flow.release_stage(ReleaseConfig(), has_production=True) == "prod"


def test_both_stages_are_listed(repo: Path) -> None:
    assert _holders(repo) == {"v1.1.0": ["canary"], "v1.0.0": ["prod"]}
    assert registry.stage_version(repo, NAME, "canary").version == "v1.1.0"
    assert registry.stage_version(repo, NAME, "prod").version == "v1.0.0"


def test_promote_moves_prod_and_retires_the_canary(repo: Path) -> None:
    canary_commit = git(repo, "rev-parse", "HEAD")
    result = flow.promote(repo, CFG, expected="v1.1.0")
    assert (result.version, result.previous) == ("v1.1.0", "v1.0.0")
    assert result.stage_tag == f"{NAME}#prod#3"
    assert result.retired_tag == f"{NAME}#canary!#4"
    tags = set(git(repo, "tag").split())
    assert {result.stage_tag, result.retired_tag} <= tags
    assert git(repo, "rev-list", "-n1", result.retired_tag) == canary_commit
    assert registry.production_ref(repo, NAME) == canary_commit
    assert registry.stage_version(repo, NAME, "canary") is None
    assert _holders(repo) == {"v1.1.0": ["prod"], "v1.0.0": []}
    with pytest.raises(registry.RegistryError, match=r"no version of .* is in canary"):
        flow.promote(repo, CFG)


def test_promote_refuses_when_the_canary_moved(repo: Path) -> None:
    with pytest.raises(registry.RegistryError, match=r"canary holds v1\.1\.0, not v1\.2\.0"):
        flow.promote(repo, CFG, expected="v1.2.0")
    assert _holders(repo) == {"v1.1.0": ["canary"], "v1.0.0": ["prod"]}


def test_abort_retires_the_canary_and_leaves_prod(repo: Path) -> None:
    prod_before = registry.production_ref(repo, NAME)
    version, tag = flow.abort_canary(repo, CFG)
    assert (version, tag) == ("v1.1.0", f"{NAME}#canary!#3")
    assert registry.production_ref(repo, NAME) == prod_before
    assert _holders(repo) == {"v1.1.0": [], "v1.0.0": ["prod"]}
    # a new canary after the abort holds the stage again
    git(repo, "commit", "-q", "--allow-empty", "-m", "third model")
    registry.register(repo, NAME, "v1.2.0")
    registry.assign(repo, NAME, "v1.2.0", "canary")
    assert registry.stage_version(repo, NAME, "canary").version == "v1.2.0"


def test_prod_rollback_keeps_working_next_to_a_canary(repo: Path) -> None:
    flow.promote(repo, CFG)
    tag = flow.rollback(repo, CFG, "v1.0.0")
    assert tag == f"{NAME}#prod#5"
    assert _holders(repo) == {"v1.1.0": [], "v1.0.0": ["prod"]}


def test_release_via_canary_assigns_the_canary_after_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flow.release's stage choice on a real repository (its preconditions are tested in
    test_gitops_registry.py; here they are waived to reach the tagging)."""
    monkeypatch.setattr(flow, "release_problems", lambda *a, **k: [])
    monkeypatch.setattr(flow, "model_card", lambda *a, **k: "card\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "first model")
    target = flow.VerdictTarget(Path("models/model"), None)
    first = flow.release(tmp_path, CFG, target=target)
    assert (first.version, first.stage, first.stage_tag) == ("v1.0.0", "prod", f"{NAME}#prod#1")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "retrained model")
    second = flow.release(tmp_path, CFG, target=target)
    assert (second.version, second.stage, second.previous) == ("v1.1.0", "canary", "v1.0.0")
    assert second.stage_tag == f"{NAME}#canary#2"
    assert _holders(tmp_path) == {"v1.1.0": ["canary"], "v1.0.0": ["prod"]}
