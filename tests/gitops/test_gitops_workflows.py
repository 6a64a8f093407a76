"""The GitHub workflows: schema-valid, no medium+ security findings, hardened, filters right."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from wcmatch.glob import DOTGLOB, GLOBSTAR, globmatch

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent
SEVERE = {"Medium", "High"}


def _load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _on(workflow: dict) -> dict:
    # PyYAML reads the bare key `on` as boolean True.
    return workflow.get("on", workflow.get(True))


def test_the_workflows_exist():
    assert {p.name for p in FILES} == {
        "ci.yml",
        "pr.yml",
        "release.yml",
        "rollback.yml",
        "monitor.yml",
        "promote.yml",
        "retrain.yml",
        "tests.yml",
    }


@pytest.mark.integration
def test_workflows_match_the_github_schema():
    proc = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *FILES],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.integration
def test_zizmor_finds_nothing_of_medium_severity_or_above():
    proc = subprocess.run(
        [BIN / "zizmor", "--offline", "--format", "json", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(proc.stdout)
    severe = [
        (f["ident"], f["determinations"]["severity"])
        for f in findings
        if f["determinations"]["severity"] in SEVERE
    ]
    assert severe == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_workflow_is_hardened(path: Path):
    text = path.read_text()
    wf = yaml.safe_load(text)
    assert wf["permissions"] == {}, "top-level permissions must be empty"
    assert "pull_request_target" not in _on(wf)
    for name, job in wf["jobs"].items():
        assert "permissions" in job, f"job {name} declares no permissions"
        for step in job["steps"]:
            uses = step.get("uses", "")
            if uses and not uses.startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), uses
            if "actions/checkout" in uses:
                assert step["with"]["persist-credentials"] is False
            run = step.get("run", "")
            assert "${{" not in run, f"{path.name}/{name}: expression interpolated into run:"


PR_FILTER = _on(_load("pr.yml"))["pull_request"]["paths"]


def _triggers(changed: list[str], patterns: list[str]) -> bool:
    """GitHub `paths:` semantics: run when any changed file matches a pattern."""
    return any(globmatch(f, patterns, flags=GLOBSTAR | DOTGLOB) for f in changed)


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (["conf/model/random_forest.yaml"], True),
        (["conf/experiment/rf_tuned.yaml", "README.md"], True),
        (["params.yaml"], True),
        (["dvc.lock"], True),
        (["data/raw/breast_cancer.csv.dvc"], True),
        (["extra.dvc"], True),
        (["pipelines/batch/dvc.yaml"], True),
        (["src/pr2prod/models/train.py"], True),
        (["pyproject.toml"], True),
        (["docs/gitops.md"], False),
        (["README.md", "docs/serving.md"], False),
        ([".github/workflows/ci.yml"], False),
        (["tests/gitops/test_gitops_workflows.py"], False),
        (["data/raw/breast_cancer.csv"], False),
    ],
)
def test_pr_path_filter(changed: list[str], expected: bool):
    assert _triggers(changed, PR_FILTER) is expected


def test_release_uses_the_same_filter_on_main_only():
    push = _on(_load("release.yml"))["push"]
    assert push["paths"] == PR_FILTER
    assert push["branches"] == ["main"]


def test_github_only_steps_are_skipped_under_act():
    steps = _load("release.yml")["jobs"]["release"]["steps"]
    by_name = {s.get("name", ""): s for s in steps}
    for name in (
        "containerise and publish the Bento",
        "GitHub release with the model card as notes",
    ):
        assert by_name[name]["if"] == "${{ !env.ACT }}"


def test_every_remote_action_has_an_act_stub():
    actrc = (ROOT / ".actrc").read_text()
    stubs = dict(
        line.split(None, 1)[1].split("=", 1)
        for line in actrc.splitlines()
        if line.startswith("--local-repository")
    )
    used = set()
    for path in [*FILES, ROOT / ".github/actions/setup/action.yml"]:
        used |= set(re.findall(r"uses:\s*([\w.-]+/[\w.-]+@[0-9a-f]{40})", path.read_text()))
    used = {u for u in used if not u.startswith("actions/checkout@")}  # act copies the tree
    assert used == set(stubs)
    for stub in stubs.values():
        assert (ROOT / stub / "action.yml").exists()
