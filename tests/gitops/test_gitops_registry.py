"""The GTO-backed registry on a real temporary git repository; versions; release refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from _project import git, git_identity
from pr2prod.config.release_schema import ReleaseConfig
from pr2prod.release import flow, registry
from pr2prod.release.versions import VersionError, bump_from_labels, next_version

pytestmark = [pytest.mark.integration]

NAME = "pr2prod-model"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "first model")
    return tmp_path


@pytest.fixture(autouse=True)
def _identity(monkeypatch: pytest.MonkeyPatch) -> None:
    git_identity(monkeypatch)


@pytest.mark.parametrize(
    ("latest", "bump", "expected"),
    [
        (None, "minor", "v1.0.0"),
        ("v1.0.0", "patch", "v1.0.1"),
        ("v1.2.3", "minor", "v1.3.0"),
        ("v1.2.3", "major", "v2.0.0"),
    ],
)
def test_next_version(latest, bump, expected):
    assert next_version(latest, bump) == expected


def test_bad_bump_names_the_allowed_levels():
    with pytest.raises(VersionError, match="patch, minor, major"):
        next_version("v1.0.0", "huge")


def test_bump_from_pr_labels():
    assert bump_from_labels("bug,release:major", "minor") == "major"
    assert bump_from_labels(["docs"], "patch") == "patch"
    with pytest.raises(VersionError, match="several"):
        bump_from_labels("release:major,release:patch", "minor")


def test_register_assign_and_production_ref(repo: Path):
    assert registry.list_versions(repo, NAME) == []
    assert registry.production_ref(repo, NAME) is None
    first = git(repo, "rev-parse", "HEAD")
    assert registry.register(repo, NAME, registry.plan_next(repo, NAME, "minor")) == (
        f"{NAME}@v1.0.0"
    )
    assert registry.assign(repo, NAME, "v1.0.0") == f"{NAME}#prod#1"
    assert registry.production_ref(repo, NAME) == first

    git(repo, "commit", "-q", "--allow-empty", "-m", "better model")
    second = git(repo, "rev-parse", "HEAD")
    registry.register(repo, NAME, registry.plan_next(repo, NAME, "minor"))
    registry.assign(repo, NAME, "v1.1.0")
    assert set(git(repo, "tag").split()) == {
        f"{NAME}@v1.0.0",
        f"{NAME}@v1.1.0",
        f"{NAME}#prod#1",
        f"{NAME}#prod#2",
    }
    assert git(repo, "rev-list", "-n1", f"{NAME}@v1.1.0") == second
    assert registry.production_ref(repo, NAME) == second
    versions = registry.list_versions(repo, NAME)
    assert [(v.version, v.stages) for v in versions] == [("v1.1.0", ["prod"]), ("v1.0.0", [])]


def test_rollback_assigns_prod_to_the_earlier_version(repo: Path):
    first = git(repo, "rev-parse", "HEAD")
    registry.register(repo, NAME, "v1.0.0")
    registry.assign(repo, NAME, "v1.0.0")
    git(repo, "commit", "-q", "--allow-empty", "-m", "next")
    registry.register(repo, NAME, "v1.1.0")
    registry.assign(repo, NAME, "v1.1.0")

    tag = flow.rollback(repo, ReleaseConfig(model_name=NAME), "v1.0.0")
    assert tag == f"{NAME}#prod#3"
    assert registry.production_ref(repo, NAME) == first
    assert registry.stage_version(repo, NAME).version == "v1.0.0"


def test_rollback_refuses_unknown_and_current_versions(repo: Path):
    registry.register(repo, NAME, "v1.0.0")
    registry.assign(repo, NAME, "v1.0.0")
    with pytest.raises(
        registry.RegistryError, match=r"no version 'v9\.9\.9'; registered: v1\.0\.0"
    ):
        registry.rollback(repo, NAME, "v9.9.9")
    with pytest.raises(registry.RegistryError, match="already in prod"):
        registry.rollback(repo, NAME, "v1.0.0")


def test_assigning_the_holder_again_is_refused_by_gtos_own_guard(repo: Path):
    """No force where GTO's guard suffices: a second assignment of the holder adds no tag."""
    registry.register(repo, NAME, "v1.0.0")
    registry.assign(repo, NAME, "v1.0.0")
    before = set(git(repo, "tag").split())
    with pytest.raises(registry.RegistryError, match=r"v1\.0\.0: .*already in stage 'prod'"):
        registry.assign(repo, NAME, "v1.0.0")
    assert set(git(repo, "tag").split()) == before


def test_the_version_bump_is_gtos(repo: Path):
    """pr2prod's planned version equals what ``gto register --bump-<level>`` registers."""
    import gto.api

    registry.register(repo, NAME, "v1.2.3")
    for level in ("patch", "minor", "major"):
        git(repo, "commit", "-q", "--allow-empty", "-m", level)
        planned = registry.plan_next(repo, NAME, level)
        gto.api.register(str(repo), NAME, "HEAD", **{f"bump_{level}": True})
        assert registry.latest_version(repo, NAME) == planned


def test_registering_an_existing_version_is_refused(repo: Path):
    registry.register(repo, NAME, "v1.0.0")
    git(repo, "commit", "-q", "--allow-empty", "-m", "next")
    with pytest.raises(registry.RegistryError, match="already exists"):
        registry.register(repo, NAME, "v1.0.0")


# --- release preconditions on a real (untrained) pr2prod project -----------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from _project import make_project

    return make_project(tmp_path_factory.mktemp("release") / "proj")


def _refusals(project: Path, **kw) -> str:
    cfg = ReleaseConfig(**kw)
    target = flow.VerdictTarget(Path("models/model"), None)
    with pytest.raises(flow.ReleaseRefusedError) as exc:
        flow.release(project, cfg, target=target)
    assert git(project, "tag") == "", "a refused release must not tag"
    return str(exc.value)


def test_release_refuses_a_dirty_tree(project: Path):
    (project / "dvc.yaml").write_text((project / "dvc.yaml").read_text() + "\n# edited\n")
    try:
        assert "git tree is dirty" in _refusals(project) and "dvc.yaml" in _refusals(project)
    finally:
        git(project, "checkout", "dvc.yaml")


def test_release_refuses_a_stale_lock(project: Path):
    # never reproduced: every stage is out of date with respect to the (missing) dvc.lock
    message = _refusals(project)
    assert "dvc.lock is stale" in message
    assert "train" in message


def test_release_refuses_params_out_of_sync(project: Path):
    conf = project / "conf/model/logistic_regression.yaml"
    original = conf.read_text()
    conf.write_text(original.replace("C: 1.0", "C: 0.25"))
    try:
        assert "params.yaml is out of sync with conf/" in _refusals(project)
    finally:
        conf.write_text(original)


def test_release_refuses_without_a_model_or_a_verdict(project: Path):
    message = _refusals(project)
    assert "models/model is missing" in message  # never reproduced: nothing to release
    # one message for the first missing thing (the stale lock's list names gate.json as an
    # out of date output; the verdict check itself says nothing more)
    assert "reports/gate.json is missing" not in message


def test_release_refuses_artifacts_missing_on_the_remote(trained_project: Path):
    # the trained fixture never ran `dvc push`: its outputs exist locally only
    problems = flow.release_problems(trained_project, None)
    assert any(
        p.startswith("artifacts missing from the DVC remote") and "models/model" in p
        for p in problems
    ), problems
