"""Every experiment is recorded, pass or fail: README's "Try an experiment" block, as written.

A copy of the trained project, committed so that ``main``'s ``dvc.lock`` names production,
runs each command of the README block (read from README.md, not copied here): each exits 0,
the failing candidate (``model.C=0.1``) is recorded with ``passed: 0`` and no Bento, and
``dvc exp show`` lists every experiment with its verdict. Temp-dir and queued experiments
are gated against the project's production, not called a first release.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from _project import ROOT, experiments, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def readme_block() -> list[str]:
    """The commands of README.md's "Try an experiment" block, comments stripped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Try an experiment", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None, "README.md: no bash block under 'Try an experiment'"
    return [line.split("  #", 1)[0].strip() for line in block.group(1).splitlines() if line]


@pytest.fixture
def project(trained_project: Path, tmp_path: Path) -> Path:
    """A writable copy of the trained project whose main records the model (production)."""
    dest = tmp_path / "proj"
    shutil.copytree(trained_project, dest, symlinks=True)
    run(["git", "add", "-A"], dest)
    run(["git", "commit", "-qm", "trained: production"], dest)
    return dest


def test_the_readme_experiment_block_records_every_experiment(project: Path) -> None:
    commands = readme_block()
    assert any("model.C=0.1" in c for c in commands)
    for command in commands:
        proc = run(["bash", "-c", command], project, check=False, timeout=1800)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"

    found = experiments(project)
    by_override = {tuple(e["overrides"]): e for e in found.values()}
    assert set(by_override) == {
        ("model=random_forest",),
        ("model.C=0.1",),
        ("model.C=0.5",),
        ("model.C=2",),
    }, found
    for entry in found.values():  # each with its verdict
        assert entry["gate"]["passed"] in (0, 1), entry
        assert isinstance(entry["gate"]["failed_checks"], int)

    failing = by_override[("model.C=0.1",)]
    assert failing["gate"]["passed"] == 0 and failing["gate"]["failed_checks"] >= 1
    assert failing["gate"]["worst_slack"] < 0  # the worst check's bound is past its tolerance
    assert failing["gate"]["worst_bound"] > failing["gate"]["worst_tolerance"]
    # the experiment's own record: gated against production, no Bento built
    rev = failing["rev"]
    gate = json.loads(run(["git", "show", f"{rev}:reports/gate.json"], project).stdout)
    assert gate["verdict"] == "fail" and gate["baseline"] is not None, gate["baseline_reason"]
    bento = json.loads(run(["git", "show", f"{rev}:reports/bento.json"], project).stdout)
    assert bento["built"] is False and bento["bento_tag"] is None
    assert bento["reason"].startswith("not built: the gate failed")
    assert bento["failed"] == gate["failed"]
    # a queued experiment also compared with production (not "first release")
    queued = by_override[("model.C=2",)]["rev"]
    gate = json.loads(run(["git", "show", f"{queued}:reports/gate.json"], project).stdout)
    assert gate["baseline"] is not None, gate["baseline_reason"]

    # --temp and the queue leave the workspace as the block's checkout left it
    assert run(["git", "status", "--porcelain", "--untracked-files=no"], project).stdout == ""


def test_a_plain_exp_run_of_a_failing_candidate_is_recorded_and_consistent(
    project: Path,
) -> None:
    """The workspace form (`dvc exp run -S`, no --temp): exit 0, recorded, nothing half-done."""
    proc = run(["dvc", "exp", "run", "-S", "model.C=0.1"], project, check=False, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "FAIL" in proc.stdout and "not built: the gate failed" in proc.stdout
    (entry,) = experiments(project).values()
    assert entry["overrides"] == ["model.C=0.1"] and entry["gate"]["passed"] == 0
    # DVC applied the experiment's results: params, lock and outputs agree (nothing stale)
    assert json.loads(run(["dvc", "status", "--json", "dvc.yaml"], project).stdout) == {}
    # and `git checkout HEAD -- . && dvc checkout` goes back to the committed workspace
    run(["bash", "-c", "git checkout HEAD -- . && dvc checkout -q"], project)
    assert run(["git", "status", "--porcelain", "--untracked-files=no"], project).stdout == ""
    assert json.loads(run(["dvc", "status", "--json", "dvc.yaml"], project).stdout) == {}
