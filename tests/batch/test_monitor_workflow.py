"""The scheduled monitor workflow is valid and passes zizmor's security audits offline."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github/workflows/monitor.yml"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (it is in the dev extras: pip install -e '.[dev]')")
    return str(path)


@pytest.mark.integration
def test_workflow_matches_the_github_schema():
    proc = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.integration
def test_zizmor_finds_nothing_of_medium_severity_or_more():
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--min-severity=medium", "--no-progress", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout + proc.stderr


def test_workflow_runs_make_targets_with_least_privilege():
    wf = yaml.safe_load(WORKFLOW.read_text())
    assert wf["permissions"] == {}
    jobs = wf["jobs"]
    assert jobs["monitor"]["permissions"] == {"contents": "read"}
    assert jobs["open-issue"]["permissions"] == {"issues": "write"}
    runs = [s.get("run", "") for j in jobs.values() for s in j["steps"]]
    assert any("make monitor" in r for r in runs)
    assert not any("github.event" in r for r in runs)
    uses = [s["uses"] for j in jobs.values() for s in j["steps"] if "uses" in s]
    assert uses
    remote = [u for u in uses if not u.startswith("./")]  # local actions need no pin
    assert remote
    assert all(len(u.split("@")[1]) == 40 for u in remote)
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads `on` as a boolean
    assert set(triggers) == {"schedule", "workflow_dispatch"}
