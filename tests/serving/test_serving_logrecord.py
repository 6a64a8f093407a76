"""The one prediction-log record: its committed JSON Schema, the writer's lines, the finder,
and one default log path for `serve` and `monitor`."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from pr2prod.config.monitor_schema import MonitorConfig
from pr2prod.config.serve_schema import ServeConfig
from pr2prod.logrecord import (
    SCHEMA_VERSION,
    PredictionRecord,
    json_schema,
    log_files,
    read_records,
)
from pr2prod.serving.predlog import PredictionLog
from pr2prod.serving.recorder import Job, log_records

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DOC = ROOT / "docs" / "prediction_record.schema.json"


def _job(rid: str, endpoint: str, n: int, regression: bool = False) -> Job:
    outputs = (
        [{"value": 1.5 * i} for i in range(n)]
        if regression
        else [{"label": i % 2, "probabilities": {"0": 0.25, "1": 0.75}} for i in range(n)]
    )
    return Job(
        request_id=rid,
        endpoint=endpoint,
        records=[{"x": float(i), "colour": "red", "missing": None} for i in range(n)],
        outputs=outputs,
        model={"model_name": "m", "model_version": "abc123", "artifact_hash": "f" * 32},
        latency_ms=2.5,
        timestamp=time.time(),
    )


def test_committed_json_schema_is_generated_from_the_model() -> None:
    assert SCHEMA_DOC.read_text(encoding="utf-8") == json_schema(), (
        f"{SCHEMA_DOC} is stale: run "
        f"`python -m pr2prod.logrecord --out {SCHEMA_DOC.relative_to(ROOT)}`"
    )


@pytest.mark.parametrize("regression", [False, True])
def test_writer_lines_follow_the_committed_schema(tmp_path: Path, regression: bool) -> None:
    path = tmp_path / "p.jsonl"
    log = PredictionLog(path, max_bytes=10_000)
    written = log_records(_job("a", "predict", 1, regression)) + log_records(
        _job("b", "predict_batch", 3, regression)
    )
    for record in written:
        log.write(record)
    log.close()
    schema = json.loads(SCHEMA_DOC.read_text())
    lines = path.read_text().splitlines()
    for line in lines:
        jsonschema.validate(json.loads(line), schema)
    assert all(json.loads(line)["schema_version"] == SCHEMA_VERSION for line in lines)
    back = list(read_records(path))
    assert back == written
    assert [r.row_id for r in back] == ["a", "b#0", "b#1", "b#2"]
    assert back[1].inputs["missing"] is None
    expected = [1.5 * i for i in (0, 0, 1, 2)] if regression else [0, 0, 1, 0]
    assert [r.output.prediction for r in back] == expected


def test_other_versions_and_formats_are_refused(tmp_path: Path) -> None:
    good = log_records(_job("a", "predict", 1))[0]
    other = json.loads(good.to_json()) | {"schema_version": SCHEMA_VERSION + 1}
    old = {"request_id": "x", "outputs": {"prediction": 1}, "model": {"version": "v1"}}
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join([good.to_json(), json.dumps(other), json.dumps(old), "{"]) + "\n")
    with pytest.raises(ValueError, match="schema_version"):
        PredictionRecord.model_validate(other)
    assert list(read_records(path)) == [good]


def test_finder_orders_rotated_worker_and_gzip_files_oldest_first(tmp_path: Path) -> None:
    names = [
        "p.jsonl",
        "p.jsonl.1",
        "p.jsonl.2.gz",
        "p.jsonl.10",
        "p.jsonl.w0",
        "p.jsonl.w0.1",
        "p.jsonl.w0.1.gz",  # being compressed: the plain twin is complete
        "p.jsonl.w1",
        "other.jsonl",
        "p.jsonl.tmp",
    ]
    for n in names:
        (tmp_path / n).write_bytes(gzip.compress(b"") if n.endswith(".gz") else b"")
    got = [f.name for f in log_files(tmp_path / "p.jsonl")]
    assert got == [
        "p.jsonl.10",
        "p.jsonl.2.gz",
        "p.jsonl.1",
        "p.jsonl",
        "p.jsonl.w0.1",
        "p.jsonl.w0",
        "p.jsonl.w1",
    ]
    assert "other.jsonl" in [f.name for f in log_files(tmp_path)]
    (tmp_path / "p.jsonl").unlink()
    assert "p.jsonl.w1" in [f.name for f in log_files(tmp_path / "p.jsonl")]  # workers only
    with pytest.raises(FileNotFoundError, match=r"nope\.jsonl"):
        log_files(tmp_path / "nope.jsonl")


def test_serve_and_monitor_default_to_one_log_path() -> None:
    assert MonitorConfig().log == ServeConfig().prediction_log.path
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert params["monitor"]["log"] == params["serve"]["prediction_log"]["path"]
    conf = (ROOT / "conf" / "monitor" / "default.yaml").read_text()
    assert "log: ${serve.prediction_log.path}" in conf
