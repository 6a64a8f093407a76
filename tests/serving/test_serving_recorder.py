"""Prediction log rotation, the off-path recorder (shadow errors, timeouts, full queue),
and the shadow report."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np

from pr2prod.logrecord import PredictionRecord
from pr2prod.serving.predictor import ModelInfo, Scores
from pr2prod.serving.predlog import PredictionLog, read_log
from pr2prod.serving.recorder import Job, Outcome, Recorder, log_records
from pr2prod.serving.shadow_report import render, summarise


class FakeShadow:
    """Scores like a Predictor; flips labels, raises or sleeps on demand."""

    def __init__(self, mode: str = "flip", sleep: float = 0.0) -> None:
        self.mode = mode
        self.sleep = sleep
        self.info = ModelInfo("shadow", "s1", "h" * 32, "binary")

    def to_array(self, records: list[dict]) -> np.ndarray:
        return np.array([[r["x"]] for r in records], dtype=float)

    def score(self, x: np.ndarray) -> Scores:
        time.sleep(self.sleep)
        if self.mode == "crash":
            raise RuntimeError("shadow exploded")
        pred = (x[:, 0] > 0.5).astype(int)
        proba = np.column_stack([1 - pred, pred]).astype(float)
        return Scores(pred, proba, [0, 1])


def _job(xs: list[float], labels: list[int], rid: str = "r1") -> Job:
    return Job(
        request_id=rid,
        endpoint="predict_batch",
        records=[{"x": v} for v in xs],
        outputs=[
            {"label": lab, "probabilities": {"0": 1.0 - lab, "1": float(lab)}} for lab in labels
        ],
        model={"model_name": "prod", "model_version": "p1", "artifact_hash": "a" * 32},
        latency_ms=1.5,
        timestamp=time.time(),
    )


def _run(
    tmp_path: Path,
    shadow: FakeShadow | None,
    jobs: list[Job],
    timeout: float = 1.0,
    queue_size: int = 100,
) -> tuple[list[PredictionRecord], list[Outcome]]:
    outcomes: list[Outcome] = []
    log = PredictionLog(tmp_path / "p.jsonl", max_bytes=10_000_000)
    rec = Recorder(log, shadow, timeout, queue_size, on_outcome=outcomes.append)
    for job in jobs:
        rec.submit(job)
    rec.close()
    return read_log(tmp_path / "p.jsonl"), outcomes


def test_log_lines_carry_inputs_outputs_model_and_shadow(tmp_path: Path) -> None:
    entries, outcomes = _run(tmp_path, FakeShadow(), [_job([0.9, 0.1], [1, 1])])
    assert [e.index for e in entries] == [0, 1]
    first = entries[0]
    assert first.request_id == "r1"
    assert first.inputs == {"x": 0.9}
    assert first.output.label == 1
    assert first.model.model_version == "p1"
    assert first.shadow.output.label == 1
    assert first.shadow.agree is True
    assert entries[1].shadow.output.label == 0
    assert entries[1].shadow.agree is False
    assert Outcome("agree", 1) in outcomes
    assert Outcome("disagree", 1) in outcomes


def test_crashing_shadow_is_logged_not_raised(tmp_path: Path) -> None:
    entries, outcomes = _run(tmp_path, FakeShadow("crash"), [_job([0.9], [1]), _job([0.2], [0])])
    assert len(entries) == 2
    assert all("shadow exploded" in e.shadow.error for e in entries)
    assert [e.output.label for e in entries] == [1, 0]
    assert outcomes == [Outcome("error", 1), Outcome("error", 1)]


def test_slow_shadow_is_a_timeout(tmp_path: Path) -> None:
    entries, outcomes = _run(tmp_path, FakeShadow(sleep=0.05), [_job([0.9], [1])], timeout=0.01)
    assert entries[0].shadow.error == "timeout"
    assert outcomes == [Outcome("timeout", 1)]


def test_submit_never_blocks_and_counts_drops(tmp_path: Path) -> None:
    release = threading.Event()

    class Blocking(FakeShadow):
        def score(self, x: np.ndarray) -> Scores:
            release.wait(5)
            return super().score(x)

    outcomes: list[Outcome] = []
    rec = Recorder(None, Blocking(), 10.0, queue_size=1, on_outcome=outcomes.append)
    submitter = threading.Thread(
        target=lambda: [rec.submit(_job([0.9], [1], rid=str(i))) for i in range(5)]
    )
    submitter.start()
    submitter.join(timeout=4)
    # every submit returned while the shadow was still blocked: the caller never waits on it
    finished_while_blocked = not submitter.is_alive() and not release.is_set()
    release.set()
    submitter.join()
    rec.close()
    assert finished_while_blocked
    assert rec.dropped >= 3
    assert Outcome("skipped", 1) in outcomes


def test_log_rotates_by_size_and_keeps_every_file_by_default(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    log = PredictionLog(path, max_bytes=1200)
    for i in range(30):
        for record in log_records(_job([float(i)], [1], rid=str(i))):
            log.write(record)
    log.close()
    assert path.exists()
    assert (tmp_path / "p.jsonl.1").exists()
    assert (tmp_path / "p.jsonl.3").exists()  # past the old `backups`: nothing deleted
    assert all(f.stat().st_size <= 1200 for f in tmp_path.iterdir())
    kept = [int(e.request_id) for e in read_log(path)]
    assert kept == list(range(30))


def test_shadow_report_flip_matrix_and_latency(tmp_path: Path) -> None:
    entries, _ = _run(
        tmp_path,
        FakeShadow(),
        [_job([0.9, 0.1, 0.2], [1, 1, 0], rid="a"), _job([0.7], [0], rid="b")],
    )
    summary = summarise(entries)
    assert summary["compared"] == 4
    assert summary["agreement_rate"] == 0.5
    assert summary["flip_matrix"] == {"1": {"1": 1, "0": 1}, "0": {"0": 1, "1": 1}}
    assert summary["production_latency_ms"]["p50"] == 1.5
    assert summary["shadow_latency_ms"]["p50"] is not None
    text = render(summary)
    assert "agreement rate: 0.5000" in text
    assert "flip matrix" in text
    json.dumps(summary)
