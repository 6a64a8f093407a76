"""The seam between the monitor and retrain: the real ``run_monitor`` writes monitor.json, the
retrain plan reads it through ``MonitorSummary``; and ``pr2prod retrain --plan``'s exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pr2prod.cli import app
from pr2prod.config.compose import reconcile
from pr2prod.config.loader import load_params
from pr2prod.config.monitor_schema import PerformanceConfig
from pr2prod.errors import DataError
from pr2prod.monitor.run import MonitorOverrides, run_monitor
from pr2prod.monitor.summary import read_summary
from pr2prod.retrain.plan import make_plan
from pr2prod.retrain.report import read_report
from pr2prod.retrain.rules import Event

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "monitor"))
from _monitor_data import setup, small_integers

CONF = Path(__file__).resolve().parents[2] / "conf"
START = pd.Timestamp("2026-01-01T00:00:00Z")
DAYS = 10


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The real monitor on a 10-day labelled batch: ``x`` shifted (drift) and the last three
    days' predictions wrong (a control-chart breach)."""
    tmp = tmp_path_factory.mktemp("contract")
    m = setup(tmp, *small_integers())
    batch = pd.read_parquet(m.cfg.scored_input)
    n = len(batch)
    batch["ts"] = START + pd.to_timedelta(np.arange(n) * DAYS * 86400 / n, "s")
    batch["x"] = batch["x"] + 3.0
    batch.to_parquet(m.cfg.scored_input)
    preds = pd.read_parquet(m.cfg.scored_predictions)
    late = (batch["ts"] >= START + pd.Timedelta(days=7)).to_numpy()
    preds.loc[late, "prediction"] = 1 - batch.loc[late, "target"].to_numpy()
    preds.to_parquet(m.cfg.scored_predictions)
    batch[["row_id", "target"]].to_parquet(tmp / "labels.parquet")  # the label column: target
    m.cfg.timestamp_column = "ts"
    m.cfg.performance = PerformanceConfig(labels=str(tmp / "labels.parquet"))
    report = run_monitor(m.cfg, MonitorOverrides(start=START.isoformat())).report
    return tmp / "reports/monitor.json", report


def test_the_plan_reads_the_monitors_figures(monitored, tmp_path: Path):
    path, report = monitored
    reconcile(CONF, tmp_path / "params.yaml", ["retrain.rules.new_rows.min_rows=1000"])
    cfg = load_params(tmp_path / "params.yaml")
    plan = make_plan(cfg, path, Event.schedule)
    rules = {str(r.rule): r for r in plan.rules}
    assert report["drifted_features"] == ["x"]
    drift = rules["drift"]
    assert drift.figures["drifted_features"] == ["x"]
    assert drift.figures["n_evaluated"] == sum(v["evaluated"] for v in report["features"].values())
    assert drift.figures["feature_psi"] == {"x": report["features"]["x"]["psi"]}
    perf = rules["performance"]
    assert perf.fired
    assert perf.figures["flagged_windows"] == report["performance"]["flagged"] != []
    assert perf.figures["labelled_rows"] == report["performance"]["labelled_rows"]
    assert rules["new_rows"].figures["rows"] == report["performance"]["labelled_rows"]
    assert plan.window is not None
    assert plan.window.model_dump().items() <= report["window"].items()
    assert plan.model_versions == report["model_versions"]


def test_a_report_that_is_not_a_monitor_report_is_a_data_error(tmp_path: Path):
    bad = tmp_path / "monitor.json"
    bad.write_text(json.dumps({"window": {"rows": 3}}))
    with pytest.raises(DataError, match=r"monitor.json: not a monitor report \(window.source"):
        read_summary(bad)
    with pytest.raises(DataError, match="no monitor report"):
        read_summary(tmp_path / "missing.json")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    reconcile(CONF, tmp_path / "params.yaml", [])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_plan_cli_prints_each_rule_and_writes_the_report(monitored, project: Path):
    path, _ = monitored
    result = CliRunner().invoke(app, ["retrain", "--plan", "--monitor", str(path)])
    assert result.exit_code == 0, result.output
    # 1 of 4 features drifted: < min_features 2, but a share 0.25 >= min_share 0.25
    assert "drift        FIRED          drifted share 0.250 >= min_share 0.25" in result.output
    assert "performance  FIRED" in result.output
    assert "retrain: yes" in result.output
    report = read_report(project / "reports/retrain.json")
    assert report.retrain
    assert report.fired == ["drift", "performance"]
    assert report.snapshot is None
    assert (project / "reports/retrain.md").is_file()


def test_plan_cli_exit_codes(project: Path):
    missing = CliRunner().invoke(app, ["retrain", "--plan", "--monitor", "nope.json"])
    assert missing.exit_code == 3
    assert "nope.json: no monitor report" in missing.output
    bad = CliRunner().invoke(app, ["retrain", "--plan", "--event", "cron"])
    assert bad.exit_code == 2
    assert "--event: 'cron' is not one of schedule, manual" in bad.output
    remote = CliRunner().invoke(app, ["retrain", "--force", "--push", "--upload-pack=x"])
    assert remote.exit_code == 2
    assert "--push: '--upload-pack=x' is not a git remote name" in remote.output
    forced = CliRunner().invoke(app, ["retrain", "--plan", "--force", "--monitor", "nope.json"])
    assert forced.exit_code == 0, forced.output
    assert "drift        not evaluated  no monitor report" in forced.output
