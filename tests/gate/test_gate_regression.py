"""The gate on a regression pipeline: RMSE, lower is better; classification checks skipped."""

from __future__ import annotations

import json

import pytest

from _project import BIN, make_project, repro, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("gate_regression")]


def test_regression_task_is_gated_on_rmse(tmp_path):
    project = make_project(tmp_path / "reg", ["data=diabetes", "model=ridge"])
    repro(project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "release ridge"], project)
    run([str(BIN / "pr2prod"), "compose", "model.alpha=100000"], project)
    repro(project)  # a FAIL is recorded; `pr2prod gate` refuses it
    proc = run([str(BIN / "pr2prod"), "gate"], project, check=False)
    report = json.loads((project / "reports/gate.json").read_text())
    rmse = next(c for c in report["checks"] if c["id"] == "metric:rmse")
    assert rmse["direction"] == "lower"
    assert rmse["delta"] > rmse["tolerance"] > 0
    assert not rmse["passed"]
    assert "metric:rmse" in report["failed"]
    assert proc.returncode != 0
    assert "metric:rmse" in proc.stderr
    skipped = {s["id"]: s["reason"] for s in report["skipped"]}
    assert skipped["metric:accuracy"] == "not a regression metric"
    assert "mean_radius" in skipped["slice:tumour_size"]
    assert "mean_abs_change" in report["stability"]
