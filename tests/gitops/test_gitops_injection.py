"""Outside text (workflow inputs, PR labels, branch names) never runs as code; secrets stay put.

Fast tests read the workflow YAML and run the real Makefile recipes and the release-labels
script with crafted values (a stand-in `pr2prod` on PATH records the arguments it gets). The slow
tests send the same payloads through the real workflows with act.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from _project import job_results, make_project, run

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONS = sorted(GITHUB.glob("*/*/action.yml"))
BIN = Path(sys.executable).parent
LABELS_SCRIPT = GITHUB / "scripts" / "release-labels.sh"

# (workflow, job) -> the GitHub environment that holds the secrets it may read (no PR job:
# they run the PR's code; which secret on which event: test_gitops_secrets.py)
SECRET_JOBS = {
    ("monitor.yml", "monitor"): "dvc-read",
    ("release.yml", "release"): "production",
    ("promote.yml", "canary"): "production",
    ("retrain.yml", "plan"): "dvc-read",
    ("retrain.yml", "retrain"): "retrain",
}
# Each payload would create the marker file if a shell ever evaluated it.
PAYLOADS = (
    "v1.0.0; touch {marker}",
    "$(touch {marker})",
    "v1.0.0`touch {marker}`",
    "v1.0.0\ntouch {marker}",
    'v1.0.0"; touch {marker}; echo "',
)
PAYLOAD_IDS = ("semicolon", "command-substitution", "backticks", "newline", "quote-breakout")


def _steps(doc: dict) -> Iterator[tuple[str, dict]]:
    if "jobs" in doc:
        for name, job in doc["jobs"].items():
            for step in job.get("steps", []):
                yield name, step
    else:  # a composite action
        for step in doc["runs"].get("steps", []):
            yield "(action)", step


def _strings(node: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, (*path, str(i)))
    elif isinstance(node, str):
        yield path, node


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.parent.name + "/" + p.name)
def test_no_expression_reaches_a_run_script(path: Path):
    doc = yaml.safe_load(path.read_text())
    for job, step in _steps(doc):
        script = step.get("run", "")
        assert not re.search(r"\$\{\{", script), f"{path.name}/{job}: expression in run: {script}"


def test_workflows_pass_no_value_on_a_make_command_line():
    """`make target VAR=value` makes make expand the value; values go through env: instead."""
    for path in WORKFLOWS:
        for job, step in _steps(yaml.safe_load(path.read_text())):
            for line in step.get("run", "").splitlines():
                assert not re.search(r"\bmake\b[^#]*\b[A-Z_]+=", line), f"{path.name}/{job}: {line}"


def test_makefile_never_pastes_outside_values_into_recipes():
    text = (ROOT / "Makefile").read_text()
    for var in ("VERSION", "LABELS", "BUMP", "BASE", "EVENT", "METRICS"):
        assert f"$({var})" not in text and f"${{{var}}}" not in text, var
    assert "SHELL := bash" in text
    assert ".SHELLFLAGS := -eu -o pipefail -c" in text


def test_no_failure_is_swallowed():
    for path in [*WORKFLOWS, ROOT / "Makefile"]:
        text = path.read_text()
        assert "|| true" not in text, path.name
        assert not re.search(r"make [\w -]+\|\|", text), f"{path.name}: a make failure is ignored"


def test_secrets_only_in_the_allowed_jobs_steps():
    seen = set()
    for path in WORKFLOWS:
        doc = yaml.safe_load(path.read_text())
        for where, value in _strings(doc):
            if "secrets." not in value:
                continue
            # jobs.<job>.steps.<i>.env.<VAR>: step level, nowhere wider
            assert len(where) == 6 and where[0] == "jobs" and where[2:5:2] == ("steps", "env"), (
                f"{path.name}: secret at {'.'.join(where)} (only a step's env: may hold one)"
            )
            job = where[1]
            assert (path.name, job) in SECRET_JOBS, f"{path.name}/{job} must not see secrets"
            assert doc["jobs"][job].get("environment") == SECRET_JOBS[path.name, job]
            seen.add((path.name, job))
        assert "secrets: inherit" not in path.read_text()
    assert seen == set(SECRET_JOBS)


def test_secret_jobs_run_fork_code_only_on_the_safe_to_test_labeled_event():
    pr = yaml.safe_load((GITHUB / "workflows/pr.yml").read_text())
    guard = re.sub(r"\s+", " ", pr["jobs"]["reproduce"]["if"])
    assert guard == (
        "${{ !github.event.pull_request.head.repo.fork || (github.event.action == 'labeled' "
        "&& github.event.label.name == 'safe-to-test') }}"
    )
    assert pr["jobs"]["gate"]["needs"] == "reproduce"  # gate inherits the guard
    on = pr.get("on", pr.get(True))
    assert set(on) == {"pull_request"}, "no pull_request_target or other privileged trigger"


def test_each_action_sha_has_one_version_label():
    labels: dict[str, set[str]] = {}
    for path in [*WORKFLOWS, *ACTIONS]:
        for sha, label in re.findall(r"uses:\s*\S+@([0-9a-f]{40})\s*#\s*(\S+)", path.read_text()):
            labels.setdefault(sha, set()).add(label)
    assert labels
    assert {sha: ls for sha, ls in labels.items() if len(ls) > 1} == {}


@pytest.mark.integration
def test_zizmor_auditor_persona_has_nothing_above_low():
    proc = subprocess.run(
        [BIN / "zizmor", "--offline", "--persona", "auditor", "--format", "json", str(GITHUB)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(proc.stdout)
    by_severity = {(f["ident"], f["determinations"]["severity"]) for f in findings}
    # the one documented low finding (docs/gitops.md): act cannot run `$/` self-repository refs
    assert by_severity <= {("self-repository", "Low")}, by_severity


# --- the real Makefile and script, run with crafted values -------------------------------------


@pytest.fixture
def fake_pr2prod(tmp_path: Path) -> Path:
    """A `pr2prod` that writes its arguments, one per line, to ``args.txt``; and the Makefile."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    stub = bindir / "pr2prod"
    stub.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > {tmp_path / "args.txt"}\n')
    stub.chmod(0o755)
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    return tmp_path


def _make(where: Path, target: str, **env_vars: str) -> subprocess.CompletedProcess[str]:
    outside = {"VERSION", "LABELS", "BUMP", "BASE", "METRICS"}
    env = {k: v for k, v in os.environ.items() if k not in outside}
    env["PATH"] = f"{where / 'bin'}{os.pathsep}{env['PATH']}"
    env.update(env_vars)
    return subprocess.run(
        ["make", "-s", target], cwd=where, env=env, capture_output=True, text=True, check=False
    )


def _args(where: Path) -> list[str] | None:
    path = where / "args.txt"
    return path.read_text().splitlines() if path.exists() else None


@pytest.mark.integration
@pytest.mark.parametrize("payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_make_rollback_refuses_a_crafted_version(fake_pr2prod: Path, payload: str):
    marker = fake_pr2prod / "PWNED"
    proc = _make(fake_pr2prod, "rollback", VERSION=payload.format(marker=marker))
    assert proc.returncode != 0
    assert "is not of the form vMAJOR.MINOR.PATCH" in proc.stderr
    assert not marker.exists()
    assert _args(fake_pr2prod) is None, "pr2prod must not be called"


@pytest.mark.integration
def test_make_rollback_passes_a_valid_version(fake_pr2prod: Path):
    proc = _make(fake_pr2prod, "rollback", VERSION="v1.2.3")
    assert proc.returncode == 0, proc.stderr
    assert _args(fake_pr2prod) == ["rollback", "v1.2.3", "--push"]


@pytest.mark.integration
def test_make_canary_targets(fake_pr2prod: Path):
    assert _make(fake_pr2prod, "promote").returncode == 0
    assert _args(fake_pr2prod) == ["promote", "--report", "reports/canary.json", "--push"]
    assert _make(fake_pr2prod, "canary-abort").returncode == 0
    assert _args(fake_pr2prod) == ["rollback", "--canary", "--push"]
    assert _make(fake_pr2prod, "canary-report").returncode == 0
    assert _args(fake_pr2prod) == ["canary-report"]


@pytest.mark.integration
@pytest.mark.parametrize(
    "payload", [*PAYLOADS, "--labels=/etc/passwd"], ids=[*PAYLOAD_IDS, "option"]
)
def test_make_canary_report_passes_metrics_as_one_argument_unevaluated(
    fake_pr2prod: Path, payload: str
):
    marker = fake_pr2prod / "PWNED"
    metrics = "http://127.0.0.1:3000/metrics" + payload.format(marker=marker)
    if payload.startswith("--"):
        metrics = payload
    proc = _make(fake_pr2prod, "canary-report", METRICS=metrics)
    assert not marker.exists()
    if "\n" in metrics or metrics.startswith("-"):
        assert proc.returncode == 2 and "is not a URL or a file" in proc.stderr
        assert _args(fake_pr2prod) is None
    else:
        assert proc.returncode == 0, proc.stderr
        assert _args(fake_pr2prod) == ["canary-report", "--metrics", metrics]


@pytest.mark.integration
def test_make_release_passes_labels_as_one_argument_unevaluated(fake_pr2prod: Path):
    marker = fake_pr2prod / "PWNED"
    labels = f'release:minor,x";touch {marker};"$(touch {marker})`touch {marker}`'
    proc = _make(fake_pr2prod, "release", LABELS=labels)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    assert _args(fake_pr2prod) == ["release", "--push", "--labels", labels]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("target", "var"), [("release", "BUMP"), ("report", "BASE")], ids=["BUMP", "BASE"]
)
def test_make_refuses_crafted_bump_and_base(fake_pr2prod: Path, target: str, var: str):
    marker = fake_pr2prod / "PWNED"
    proc = _make(fake_pr2prod, target, **{var: f"main$(touch {marker})"})
    assert proc.returncode == 2
    assert f"{var}=" in proc.stderr
    assert not marker.exists()
    assert _args(fake_pr2prod) is None


@pytest.mark.integration
def test_a_failing_command_fails_the_make_target(fake_pr2prod: Path):
    (fake_pr2prod / "bin" / "pr2prod").write_text("#!/usr/bin/env bash\nexit 3\n")
    assert _make(fake_pr2prod, "gate").returncode != 0
    assert _make(fake_pr2prod, "rollback", VERSION="v1.0.0").returncode != 0


def _labels(tmp_path: Path, names: str) -> subprocess.CompletedProcess[str]:
    out = tmp_path / "github_output"
    out.write_text("")
    env = {**os.environ, "ACT": "true", "PR2PROD_ACT_LABELS": names, "GITHUB_OUTPUT": str(out)}
    return subprocess.run(
        ["bash", str(LABELS_SCRIPT)], env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.integration
def test_release_labels_keep_only_release_levels(tmp_path: Path):
    marker = tmp_path / "PWNED"
    names = f"bug\ndocs$(touch {marker})\n`touch {marker}`\nrelease:minor"
    proc = _labels(tmp_path, names)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "github_output").read_text() == "labels=release:minor\n"
    assert not marker.exists()


@pytest.mark.integration
def test_release_labels_refuse_a_crafted_release_label(tmp_path: Path):
    marker = tmp_path / "PWNED"
    proc = _labels(tmp_path, f"release:minor$(touch {marker})")
    assert proc.returncode == 1
    assert "is not one of release:patch, release:minor, release:major" in proc.stderr
    assert (tmp_path / "github_output").read_text() == ""
    assert not marker.exists()


# --- the same payloads through the real workflows, with act --------------------------------------


@pytest.fixture
def act_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PR2PROD_ACT_ARTIFACTS", str(tmp_path / "artifacts"))
    return make_project(tmp_path / "proj")


def _act(project: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(
        [str(BIN / "pr2prod"), "ci", *args, "--json", "--action-cache-path", str(tmp_path / "c")],
        project,
        check=False,
    )


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_rollback_workflow_refuses_a_crafted_version(
    act_project: Path, tmp_path: Path, payload: str
):
    marker = tmp_path / "PWNED-rollback"
    version = payload.format(marker=marker)
    proc = _act(
        act_project,
        tmp_path,
        "workflow_dispatch",
        "-W",
        ".github/workflows/rollback.yml",
        "--input",
        f"version={version}",
    )
    assert job_results(proc.stdout) == {"rollback": "failure"}, proc.stdout[-3000:]
    assert proc.returncode != 0
    assert "is not of the form vMAJOR.MINOR.PATCH" in proc.stdout + proc.stderr
    assert not marker.exists(), "the payload ran"


@pytest.mark.e2e
@pytest.mark.slow
def test_release_workflow_refuses_a_crafted_label(
    act_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    marker = tmp_path / "PWNED-release"
    monkeypatch.setenv("PR2PROD_ACT_LABELS", f"bug\nrelease:minor$(touch {marker})")
    proc = _act(act_project, tmp_path, "push", "-W", ".github/workflows/release.yml")
    assert job_results(proc.stdout) == {"release": "failure"}, proc.stdout[-3000:]
    assert "is not one of release:patch, release:minor, release:major" in proc.stdout
    assert not marker.exists(), "the payload ran"
    assert "reproduce-check" not in proc.stdout, "the release must stop before any work"


@pytest.mark.parametrize("version", ["v1.0.0\n", "v1.0.0; touch x", "$(id)", "v١.0.0", "1.0.0"])
def test_rollback_refuses_a_version_that_is_not_semver(tmp_path: Path, version: str):
    """The CLI's own check, before the registry is read (``tmp_path`` is not even a repo)."""
    from pr2prod.config.release_schema import ReleaseConfig
    from pr2prod.release.flow import rollback
    from pr2prod.release.registry import RegistryError

    with pytest.raises(RegistryError, match=r"is not of the form vMAJOR\.MINOR\.PATCH"):
        rollback(tmp_path, ReleaseConfig(), version)
