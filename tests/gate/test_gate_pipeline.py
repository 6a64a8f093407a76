"""The gate on real artifacts from real pipelines (temp git + DVC repos, no mocks).

A "released" project has its first model committed on ``main`` and pushed to a DVC remote;
each scenario clones it, changes the config the way a pull request would, reproduces the
pipeline and reads the gate's verdict.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from _project import BIN, ROOT, copy_project, ran_stages, repro, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("gate_classification")]

PR2PROD = str(BIN / "pr2prod")


def gate_json(project: Path) -> dict:
    return json.loads((project / "reports/gate.json").read_text())


def by_id(report: dict) -> dict[str, dict]:
    return {c["id"]: c for c in report["checks"]}


def release(project: Path) -> Path:
    """Commit the reproduced pipeline on main and push its artifacts."""
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "release"], project)
    run(["dvc", "push", "-q"], project)
    return project


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory, trained_project: Path) -> tuple[Path, dict]:
    """A project whose main records a model, plus the gate report of that first repro."""
    project = copy_project(trained_project, tmp_path_factory.mktemp("released") / "proj")
    first = gate_json(project)
    return release(project), first


def propose(released: tuple[Path, dict], dest: Path, *overrides: str) -> Path:
    """A clone of the released project with ``overrides`` composed, as in a pull request."""
    run(["git", "clone", "-q", str(released[0]), str(dest)], dest.parent)
    run(["dvc", "pull", "-q"], dest)
    if overrides:
        run([PR2PROD, "compose", *overrides], dest)
    return dest


def test_no_baseline_is_a_first_release(released):
    first = released[1]
    assert first["verdict"] == "first release"
    assert first["passed"]
    assert first["baseline"] is None
    assert "has no dvc.lock" in first["baseline_reason"]  # main was committed before repro
    assert {c["kind"] for c in first["checks"]} == {"floor"}


def test_model_against_itself_passes_with_full_agreement(released):
    project = released[0]
    assert ran_stages(repro(project).stdout) == []  # committed: nothing reruns
    out = run([PR2PROD, "gate"], project)
    report = gate_json(project)
    assert report["verdict"] == "pass", out.stdout
    assert report["stability"]["agreement"] == 1.0
    assert all(c["delta"] in (0.0, None) for c in report["checks"])
    assert report["baseline"]["ref"] == "main"
    assert report["data"]["same"] is True
    assert "**Verdict: PASS" in (project / "reports/gate.md").read_text()


def test_worse_candidate_fails_naming_the_metric_and_diff_needs_no_retraining(released, tmp_path):
    project = propose(released, tmp_path / "worse", "model.C=1e-5")
    proc = run(["dvc", "repro"], project)  # a FAIL is recorded: the pipeline exits 0
    assert "[gate] FAIL" in proc.stdout and "metric:accuracy" in proc.stdout
    assert "[package] not built: the gate failed" in proc.stdout
    report = gate_json(project)
    assert report["verdict"] == "fail"
    assert "metric:accuracy" in report["failed"]
    assert not by_id(report)["metric:accuracy"]["passed"]
    md = (project / "reports/gate.md").read_text()
    assert "| metric:accuracy ↑ |" in md
    assert "✗" in md
    assert "**Verdict: FAIL" in md

    # the same checks as pytest tests, named one per check
    tests = run(
        [
            str(BIN / "python"),
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-m",
            "differential",
            str(ROOT / "tests/differential"),
            "-o",
            "addopts=",
        ],
        project,
        check=False,
    )
    assert tests.returncode == 1, tests.stdout
    assert "FAILED" in tests.stdout
    assert "test_gate_check[metric:accuracy]" in tests.stdout

    # the verdict as DVC metrics, and no Bento for it
    metrics = json.loads((project / "metrics/gate.json").read_text())
    assert metrics["passed"] == 0 and metrics["failed_checks"] == len(report["failed"])
    bento = json.loads((project / "reports/bento.json").read_text())
    assert bento["built"] is False and bento["failed"] == report["failed"]

    # pr2prod diff between two commits, in a fresh clone with an empty cache
    run(["git", "checkout", "-qb", "pr"], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "worse model"], project)
    run(["git", "tag", "worse"], project)
    run(["dvc", "push", "-q"], project)
    fresh = tmp_path / "fresh"
    run(["git", "clone", "-q", str(project), str(fresh)], tmp_path)
    out = run([PR2PROD, "diff", "main", "worse", "--md"], fresh).stdout
    assert "| model.C | 1 | 1e-05 |" in out
    assert "| accuracy |" in out
    assert "metric:accuracy" in out
    assert "Verdict: FAIL" in out
    assert not (fresh / "models/model").exists()
    assert not (fresh / "reports/train").exists()
    assert not (fresh / "data/prepared").exists()
    assert run(["git", "status", "--porcelain"], fresh).stdout == ""


def test_change_within_tolerance_passes(released, tmp_path):
    project = propose(released, tmp_path / "within", "model.C=0.5")
    repro(project)
    report = gate_json(project)
    checks = by_id(report)
    assert report["verdict"] == "pass"
    assert 0 < checks["metric:log_loss"]["delta"] <= checks["metric:log_loss"]["tolerance"]
    tests = run(
        [
            str(BIN / "python"),
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-m",
            "differential",
            str(ROOT / "tests/differential"),
            "-o",
            "addopts=",
        ],
        project,
    )
    assert f"{len(report['checks'])} passed" in tests.stdout


def test_a_real_drop_fails_by_default_and_passes_only_when_harm_must_be_proven(released, tmp_path):
    project = propose(released, tmp_path / "drop", "model.C=0.001")  # 6 rows worse
    repro(project)  # recorded, not raised
    assert run([PR2PROD, "gate"], project, check=False).returncode == 1  # CI's gate refuses it
    report = gate_json(project)
    accuracy = by_id(report)["metric:accuracy"]
    assert report["rule"] == "non_inferiority"
    assert accuracy["delta"] < -0.04  # a drop of more than 4 points of accuracy ...
    assert not accuracy["passed"]  # ... fails by default
    assert accuracy["bound"] > accuracy["tolerance"]
    # under the old rule (fail only on proven harm) the same drop passed
    run([PR2PROD, "compose", "model.C=0.001", "gate.rule=harm_proven"], project)
    run([PR2PROD, "gate"], project, check=False)
    assert by_id(gate_json(project))["metric:accuracy"]["passed"]
    # the bootstrap off needs the point rule, said with the key and the allowed rules
    proc = run([PR2PROD, "compose", "gate.bootstrap.enabled=false"], project, check=False)
    if proc.returncode == 0:  # compose may accept it; the gate must then refuse it
        proc = run([PR2PROD, "gate"], project, check=False)
    assert proc.returncode != 0
    assert "gate.bootstrap.enabled" in proc.stderr and "point" in proc.stderr


def test_a_new_data_set_is_a_new_lineage_with_one_message(released, tmp_path):
    project = propose(released, tmp_path / "lineage", "data=wine")
    proc = run(["dvc", "repro"], project, check=False)
    assert proc.returncode != 0
    assert "new lineage" in proc.stderr
    proc = run([PR2PROD, "gate", "--allow-different-data"], project, check=False)
    assert proc.returncode != 0
    assert "multiclass model, production a binary model" in proc.stderr
    assert "new lineage" in proc.stderr and "release.model_name=" in proc.stderr
    # what the message says to do works: a first release of a new model name
    run(
        [PR2PROD, "compose", "data=wine", "release.model_name=wine", "gate.baseline.ref=null"],
        project,
    )
    repro(project)
    assert gate_json(project)["verdict"] == "first release"


def test_different_test_data_is_refused_unless_allowed(released, tmp_path):
    project = propose(released, tmp_path / "data", "split.test_size=0.25")
    proc = run(["dvc", "repro"], project, check=False)
    assert proc.returncode != 0
    assert "refusing to compare models built on different data" in proc.stderr
    assert "--allow-different-data" in proc.stderr
    assert (
        not (project / "reports/gate.json").exists()
        or gate_json(project)["verdict"] == "first release"
    )  # the old report stays untouched
    run([PR2PROD, "gate", "--allow-different-data"], project, check=False)
    report = gate_json(project)
    assert report["data"]["same"] is False
    assert report["data"]["allowed_different"] is True
    assert report["rows"] == 143


def test_baseline_override_by_path_and_bad_revision(released, tmp_path):
    project = propose(released, tmp_path / "override")
    other = tmp_path / "copy"
    shutil.copytree(project / "models/model", other)
    run([PR2PROD, "gate", "--baseline", str(other)], project)
    assert gate_json(project)["baseline"]["source"] == "path"
    proc = run([PR2PROD, "gate", "--baseline", "no-such-rev"], project, check=False)
    assert proc.returncode == 3  # the gate cannot compare: a data error, not a FAIL
    assert "no-such-rev" in proc.stderr


def test_slice_regression_hidden_by_an_average_gain_fails_naming_the_slice(released, tmp_path):
    project = propose(released, tmp_path / "slice", "model.C=0.01")
    # production: a strongly regularised model, committed on branch `prod`
    repro(project, "train")
    run(["git", "checkout", "-qb", "prod"], project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "prod: C=0.01"], project)
    run(["dvc", "push", "-q"], project)
    # candidate: a weakly regularised one, better on average ...
    run(["git", "checkout", "-q", "main"], project)
    slice_ = "+gate.slices={sym:{query:'symmetry_error >= 0.0174',metrics:[accuracy],abs_tol:0.01}}"
    run(
        [
            PR2PROD,
            "compose",
            "model.C=10",
            slice_,
            "gate.rule=point",
            "gate.bootstrap.enabled=false",
        ],
        project,
    )
    repro(project, "train")
    proc = run([PR2PROD, "gate", "--baseline", "prod"], project, check=False)
    report = gate_json(project)
    checks = by_id(report)
    assert checks["metric:accuracy"]["delta"] > 0, proc.stderr
    assert checks["metric:accuracy"]["passed"]
    # ... but worse on the rows with a high symmetry error
    sym = checks["slice:sym:accuracy"]
    assert not sym["passed"]
    assert sym["delta"] < -0.01
    assert sym["rows"] >= 20
    assert proc.returncode == 1
    assert "slice:sym:accuracy" in proc.stdout
    assert "slice:sym:accuracy" in report["failed"]
