"""The whole chain on a file source: the real monitor on a real log fires the drift rule,
``pr2prod retrain --plan`` records the evidence, ``pr2prod retrain`` snapshots the grown
file with a new .dvc pointer, reruns the pipeline and commits on the retraining branch."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from _retrain_project import TABLE, file_project, git, pr2prod, read_json, table, write_log

from _project import repro, run
from pr2prod.monitor.summary import read_summary
from pr2prod.retrain.report import read_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained, committed file-source project (600 rows) with a drifted 2-day log."""
    # retraining on grown data changes the data hash: the gate compares only when allowed to
    project = file_project(
        tmp_path_factory.mktemp("retrain") / "p",
        table(600, seed=1),
        "gate.allow_different_data=true",
    )
    repro(project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "train"], project)
    drifted = table(300, seed=2, shift=2.0, first_id=10_000)
    write_log(project / "models/model", drifted, project / "logs/predictions.jsonl")
    return project


def test_real_monitor_report_fires_the_drift_rule_with_its_figures(released: Path):
    mon = pr2prod(released, "monitor", "--log", "logs/predictions.jsonl", check=False)
    assert mon.returncode == 1, mon.stdout + mon.stderr  # the monitor's own alert exit code
    plan = pr2prod(released, "retrain", "--plan", "--event", "schedule")
    assert "drift        FIRED" in plan.stdout
    assert "retrain: yes" in plan.stdout
    report = read_report(released / "reports/retrain.json")
    monitor = read_summary(released / "reports/monitor.json")
    raw = read_json(released / "reports/monitor.json")
    drift = next(r for r in report.plan.rules if r.rule == "drift")
    # the evidence is the monitor's own figures, read through the one summary model
    assert drift.figures["drifted_features"] == raw["drifted_features"] == ["x0", "x1", "x2"]
    assert drift.figures["n_evaluated"] == len(monitor.evaluated_features) == 6
    assert drift.figures["drifted_share"] == pytest.approx(0.5)
    assert report.plan.window == monitor.window
    assert report.plan.window.rows == 300
    assert report.retrain and report.fired[0] == "drift"
    assert report.snapshot is None  # --plan changes nothing
    assert git(released, "status", "--porcelain", "--untracked-files=no") == ""
    md = (released / "reports/retrain.md").read_text()
    assert "| drift | **yes** |" in md
    assert f"{monitor.window.start} → {monitor.window.end}: 300 rows" in md


def test_retrain_snapshots_the_grown_file_and_commits_on_the_branch(released: Path):
    old_pointer = yaml.safe_load((released / f"{TABLE}.dvc").read_text())
    grown = pd.concat([pd.read_csv(released / TABLE), table(300, seed=3, shift=2.0, first_id=600)])
    grown.to_csv(released / TABLE, index=False)
    main = git(released, "rev-parse", "HEAD")
    proc = pr2prod(released, "retrain", "--event", "schedule")
    assert "retrain: yes" in proc.stdout
    report = read_report(released / "reports/retrain.json")
    s = report.snapshot
    assert s is not None
    assert (s.source, s.path, s.old_rows, s.new_rows) == ("file", TABLE, 600, 900)
    assert s.old_md5 == old_pointer["outs"][0]["md5"]
    new_pointer = yaml.safe_load((released / f"{TABLE}.dvc").read_text())
    assert s.new_md5 == new_pointer["outs"][0]["md5"] != s.old_md5
    assert report.pipeline is not None
    # the gate ran on the retrained model; pass or fail, the pull request's gate decides
    gate = read_json(released / "reports/gate.json")
    p = report.pipeline
    assert p.failed_stage == (None if gate["passed"] else "gate"), p.repro_tail
    assert (p.gate_verdict, p.gate_passed) == (gate["verdict"], gate["passed"])
    assert report.pipeline.metrics_before and report.pipeline.metrics_after
    # one commit on the retraining branch, on top of main, with the pointer and the evidence
    assert git(released, "branch", "--show-current") == "pr2prod/retrain"
    assert git(released, "rev-parse", "HEAD~1") == main
    assert report.branch == "pr2prod/retrain"
    assert f"committed {git(released, 'rev-parse', 'HEAD')} on pr2prod/retrain" in proc.stdout
    changed = git(released, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert {f"{TABLE}.dvc", "dvc.lock", "reports/retrain.md", "reports/retrain.json"} <= set(
        changed
    )
    assert "reports/monitor.json" not in changed
    body = git(released, "show", "HEAD:reports/retrain.md")
    assert "| drift | **yes** |" in body
    assert f"| before | `{s.old_md5}` | 600 |" in body
    assert f"| after | `{s.new_md5}` | 900 |" in body
    assert git(released, "status", "--porcelain", "--untracked-files=no") == ""
