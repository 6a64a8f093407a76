"""tests.yml under act on the host: a push runs the unit job, then the integration job, each
running only its tier (``make test-fast`` / ``make test-integration``); the e2e job does not run
on a push. The project holds three probe tests, one per tier, that append their tier to a file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from _project import BIN, ROOT, job_results, make_project, run

PR2PROD = str(BIN / "pr2prod")
WORKFLOW = ROOT / ".github" / "workflows" / "tests.yml"
PROBES = """
import os
import pytest

def _ran(tier):
    with open(os.environ["TIER_PROBE"], "a") as fh:
        fh.write(tier + "\\n")

@pytest.mark.unit
def test_unit():
    _ran("unit")

@pytest.mark.integration
def test_integration():
    _ran("integration")

@pytest.mark.e2e
def test_e2e():
    _ran("e2e")
"""


@pytest.mark.unit
def test_the_jobs_run_one_tier_each_and_e2e_only_on_prs_to_main_and_nightly() -> None:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    assert [step.get("run") for step in jobs["unit"]["steps"]][-1] == "make test-fast"
    assert jobs["integration"]["steps"][-1]["run"] == "make test-integration"
    assert jobs["e2e"]["steps"][-1]["run"] == "make test-e2e"
    assert jobs["integration"]["needs"] == jobs["e2e"]["needs"] == "unit"
    assert "if" not in jobs["unit"] and "if" not in jobs["integration"]  # every event
    cond = " ".join(jobs["e2e"]["if"].split())
    assert "github.event_name == 'schedule'" in cond
    assert "(github.event_name == 'pull_request' && github.base_ref == 'main')" in cond


@pytest.mark.e2e
def test_a_push_runs_the_unit_then_the_integration_tier_under_act(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    probe = tmp_path / "tiers-run.txt"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TIER_PROBE", str(probe))
    project = make_project(tmp_path / "proj", commit=False)
    shutil.rmtree(project / "tests", ignore_errors=True)
    (project / "tests").mkdir()
    (project / "tests" / "test_probe.py").write_text(PROBES)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "probe tests"], project)

    act = ["ci", "push", "-W", ".github/workflows/tests.yml", "--json"]
    proc = run(
        [PR2PROD, *act, "--action-cache-path", str(tmp_path / "act-cache")],
        project,
        check=False,
        timeout=900,
    )

    results = job_results(proc.stdout)
    assert results == {"unit": "success", "integration": "success"}, proc.stdout[-4000:]
    assert probe.read_text().splitlines() == ["unit", "integration"]
