"""``pr2prod shadow-report`` reads the server's log by default, as monitor and canary-report."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pr2prod.cli import app
from pr2prod.serving.predlog import PredictionLog
from pr2prod.serving.recorder import Job, log_records

pytestmark = [pytest.mark.unit]

ROOT = Path(__file__).resolve().parents[2]
MODEL = {"model_name": "m", "model_version": "v1", "artifact_hash": "a" * 32}
SHADOW = {"model_name": "m", "model_version": "v2", "artifact_hash": "b" * 32}


def test_shadow_report_defaults_to_the_servers_log(tmp_path: Path) -> None:
    log = tmp_path / "served" / "predictions.jsonl"
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["monitor"]["log"] = str(log)  # composed as ${serve.prediction_log.path}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    job = Job(
        "r1",
        "predict_batch",
        [{"x": 1.0}, {"x": 2.0}],
        [{"label": 1}, {"label": 0}],
        MODEL,
        1.0,
        time.time(),
    )
    shadow = [
        {"model": SHADOW, "latency_ms": 2.0, "output": {"label": 1}, "agree": a}
        for a in (True, False)
    ]
    writer = PredictionLog(log, max_bytes=10**6)
    writer.submit(lambda: log_records(job, shadow))
    writer.close()
    result = CliRunner().invoke(app, ["shadow-report", "--params", str(tmp_path / "params.yaml")])
    assert result.exit_code == 0, result.output
    assert "agreement rate: 0.5000" in result.output
