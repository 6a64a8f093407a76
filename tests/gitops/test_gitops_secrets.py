"""Which job sees which secret on which event: this repository's workflows and the generated
project's (src/pr2prod/template/project/.github/workflows), read from the YAML itself.

The rule: a job that runs on a pull request runs the PR's own code, so it gets no secret,
unless the secret sits in the approval-protected environment ``pr-dvc-read`` (the generated
project, whose data lies on a DVC remote). Every job that gets a secret names an
environment (so the secret is environment-scoped, never repository-wide). The tables below
are the whole truth: adding a secret to a job, or a job with one, fails until it is added
here, in review.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.unit]

ROOT = Path(__file__).resolve().parents[2]
REPO = ROOT / ".github" / "workflows"
TEMPLATE = ROOT / "src/pr2prod/template/project/.github/workflows"
DVC = frozenset({"DVC_AWS_ACCESS_KEY_ID", "DVC_AWS_SECRET_ACCESS_KEY"})
PROTECTED_PR_ENVIRONMENT = "pr-dvc-read"  # required reviewers approve each run

# (workflow, job) -> (environment, secrets); jobs not listed see no secret and no environment
REPO_SECRETS: dict[tuple[str, str], tuple[str | None, frozenset[str]]] = {
    ("release.yml", "release"): ("production", DVC),
    ("promote.yml", "canary"): ("production", DVC),
    ("rollback.yml", "rollback"): ("production", frozenset()),
    ("monitor.yml", "monitor"): ("dvc-read", DVC),
    ("retrain.yml", "plan"): ("dvc-read", DVC),
    ("retrain.yml", "retrain"): ("retrain", DVC | {"RETRAIN_PR_TOKEN"}),
}
TEMPLATE_SECRETS = {
    **REPO_SECRETS,
    ("pr.yml", "reproduce"): (PROTECTED_PR_ENVIRONMENT, DVC),
    ("pr.yml", "gate"): (PROTECTED_PR_ENVIRONMENT, DVC),
}
PR_EVENTS = {"pull_request", "pull_request_target"}


def _events(workflow: dict) -> set[str]:
    on = workflow.get("on", workflow.get(True))  # PyYAML reads the bare key `on` as True
    return {on} if isinstance(on, str) else set(on)


def _secrets(job: dict) -> frozenset[str]:
    return frozenset(re.findall(r"secrets\.([A-Za-z0-9_]+)", yaml.safe_dump(job)))


def exposure(folder: Path) -> dict[tuple[str, str], tuple[set[str], str | None, frozenset[str]]]:
    """(workflow, job) -> (events, environment, secrets) for every job of ``folder``."""
    found = {}
    for path in sorted(folder.glob("*.yml")):
        workflow = yaml.safe_load(path.read_text())
        assert "secrets" not in yaml.safe_dump(workflow.get("env") or {}), path.name
        for name, job in workflow["jobs"].items():
            env = job.get("environment")
            env = env.get("name") if isinstance(env, dict) else env
            found[(path.name, name)] = (_events(workflow), env, _secrets(job))
    return found


@pytest.mark.parametrize(
    ("folder", "expected"),
    [(REPO, REPO_SECRETS), (TEMPLATE, TEMPLATE_SECRETS)],
    ids=["repository", "generated-project"],
)
def test_each_job_sees_exactly_the_secrets_listed(folder: Path, expected: dict) -> None:
    found = exposure(folder)
    assert set(expected) <= set(found), set(expected) - set(found)
    for key, (events, env, secrets) in found.items():
        want_env, want = expected.get(key, (None, frozenset()))
        assert (env, secrets) == (want_env, want), f"{key} on {sorted(events)}"


@pytest.mark.parametrize("folder", [REPO, TEMPLATE], ids=["repository", "generated-project"])
def test_pull_request_code_gets_secrets_only_through_the_protected_environment(
    folder: Path,
) -> None:
    for (workflow, job), (events, env, secrets) in exposure(folder).items():
        if secrets:
            assert env is not None, f"{workflow}/{job}: secrets outside an environment"
        if events & PR_EVENTS and secrets:
            assert env == PROTECTED_PR_ENVIRONMENT, f"{workflow}/{job} on {sorted(events)}"


def test_this_repositorys_pull_requests_get_no_secret_at_all() -> None:
    pr_jobs = {k: v for k, v in exposure(REPO).items() if v[0] & PR_EVENTS}
    assert {w for w, _ in pr_jobs} == {"ci.yml", "pr.yml", "tests.yml"}
    assert all(not secrets and env is None for _, env, secrets in pr_jobs.values())


@pytest.mark.parametrize("folder", [REPO, TEMPLATE], ids=["repository", "generated-project"])
def test_release_and_promote_re_derive_their_evidence(folder: Path) -> None:
    """The release job runs the gate itself; the promote job writes the canary report."""
    release = yaml.safe_dump(yaml.safe_load((folder / "release.yml").read_text()))
    assert release.index("make gate-release") < release.index("make release")
    promote = yaml.safe_load((folder / "promote.yml").read_text())["jobs"]["canary"]["steps"]
    runs = [s.get("run", "") for s in promote]
    report = next(i for i, r in enumerate(runs) if "make canary-report" in r)
    move = next(i for i, r in enumerate(runs) if "make promote" in r)
    assert report < move


def test_pr_runs_the_trust_check() -> None:
    steps = yaml.safe_load((REPO / "pr.yml").read_text())["jobs"]["lint"]["steps"]
    assert any(s.get("run") == "make trust-check" for s in steps)
