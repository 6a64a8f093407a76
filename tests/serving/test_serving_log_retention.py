"""The prediction log keeps every record until its retention rule removes a file (reported),
repairs a line cut by a crash, and names files the way the log finder reads them."""

from __future__ import annotations

import asyncio
import gzip
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from pr2prod.logrecord import LogReadStats, log_files, read_records
from pr2prod.serving.predictor import ModelInfo, Scores
from pr2prod.serving.predlog import (
    KeepingRotatingFileHandler,
    LogOverloadedError,
    LogWriteError,
    PredictionLog,
    Removal,
    Retention,
    count_lines,
)
from pr2prod.serving.recorder import Job, Outcome, Recorder, log_records


def _job(i: int, n: int = 1, ids: list[object] | None = None) -> Job:
    return Job(
        request_id=f"r{i}",
        endpoint="predict" if n == 1 else "predict_batch",
        records=[{"x": float(i)}] * n,
        outputs=[{"label": 1, "probabilities": {"0": 0.0, "1": 1.0}}] * n,
        model={"model_name": "m", "model_version": "v1", "artifact_hash": "a" * 32},
        latency_ms=1.0,
        timestamp=time.time(),
        ids=ids,
    )


def _fill(log: PredictionLog, n: int) -> None:
    for i in range(n):
        job = _job(i)
        log.submit(lambda job=job: log_records(job))
    log.close()


def test_default_keeps_every_record_across_many_rotations(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    removed: list[Removal] = []
    _fill(PredictionLog(path, max_bytes=1000, on_remove=removed.append), 200)
    files = log_files(path)
    assert len(files) > 20  # rotated many times, far past any old `backups`
    stats = LogReadStats()
    ids = [r.request_id for r in read_records(path, stats)]
    assert ids == [f"r{i}" for i in range(200)]  # every record, once, in order
    assert stats.bad_lines == 0
    assert removed == []


def test_max_files_removes_the_oldest_and_reports_each_record(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    removed: list[Removal] = []
    log = PredictionLog(path, 1000, Retention(max_files=3), on_remove=removed.append)
    _fill(log, 200)
    rotated = [f for f in log_files(path) if f != path]
    assert [f.name for f in rotated] == ["p.jsonl.3", "p.jsonl.2", "p.jsonl.1"]
    kept = sum(1 for _ in read_records(path))
    assert {r.reason for r in removed} == {"max_files"}
    assert kept + sum(r.records for r in removed) == 200  # nothing vanished uncounted
    assert kept < 200


def test_max_age_removes_old_rotated_files_at_start(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    _fill(PredictionLog(path, 1000), 60)
    rotated = [f for f in log_files(path) if f != path]
    old = rotated[:2]  # the two oldest
    week_ago = time.time() - 7 * 86400
    for f in old:
        os.utime(f, (week_ago, week_ago))
    expected = sum(count_lines(f) for f in old)
    removed: list[Removal] = []
    PredictionLog(path, 1000, Retention(max_age_days=1.5), on_remove=removed.append).close()
    assert sorted(r.path for r in removed) == sorted(old)
    assert sum(r.records for r in removed) == expected
    assert all(r.reason == "max_age_days" for r in removed)
    assert path.exists()  # the current file is never removed


def test_rotation_shifts_compressed_files_too(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    _fill(PredictionLog(path, 1000), 30)
    first = path.with_name("p.jsonl.1")
    with first.open("rb") as src, gzip.open(f"{first}.gz", "wb") as dst:
        dst.write(src.read())
    first.unlink()  # an external compressor gzipped .1
    before = [r.request_id for r in read_records(path)]
    _fill(PredictionLog(path, 1000), 30)
    gz = [f.name for f in tmp_path.iterdir() if f.name.endswith(".gz")]
    assert len(gz) == 1 and gz != ["p.jsonl.1.gz"]  # moved up with its plain neighbours
    after = [r.request_id for r in read_records(path)]
    assert after == before + [f"r{i}" for i in range(30)]


def test_a_line_cut_by_a_crash_costs_one_bad_line_only(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    _fill(PredictionLog(path, 10_000_000), 3)
    with path.open("a") as fh:
        fh.write('{"schema_version": 2, "request_id": "cut')  # SIGKILL mid-line
    _fill(PredictionLog(path, 10_000_000), 2)
    stats = LogReadStats()
    assert [r.request_id for r in read_records(path, stats)] == ["r0", "r1", "r2", "r0", "r1"]
    assert stats.bad_lines == 1


def test_per_worker_files_rotate_under_their_own_name(tmp_path: Path) -> None:
    base = tmp_path / "p.jsonl"
    for w in (0, 1):
        _fill(PredictionLog(f"{base}.w{w}", 1000), 40)
    names = {f.name for f in log_files(base)}
    assert {"p.jsonl.w0", "p.jsonl.w0.1", "p.jsonl.w1", "p.jsonl.w1.1"} <= names
    assert sum(1 for _ in read_records(base)) == 80


def test_ids_are_logged_and_labels_key_on_them(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    log = PredictionLog(path, 1_000_000)
    with_ids, without = _job(1, 2, ids=["c-7", 8]), _job(2, 2)
    log.submit(lambda: log_records(with_ids))
    log.submit(lambda: log_records(without))
    log.close()
    records = list(read_records(path))
    assert [r.id for r in records] == ["c-7", 8, None, None]
    assert [r.label_key for r in records] == ["c-7", "8", "r2#0", "r2#1"]


def test_submit_returns_only_once_the_lines_are_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    log = PredictionLog(path, 1_000_000)
    missing: list[str] = []

    def one(i: int) -> None:
        job = _job(i, n=3)
        log.submit(lambda: log_records(job))
        if path.read_text().count(f'"request_id":"r{i}"') != 3:  # readable at once
            missing.append(f"r{i}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    assert missing == []
    assert sum(1 for _ in read_records(path)) == 120


def test_submit_async_returns_only_once_the_lines_are_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    log = PredictionLog(path, 1_000_000)

    async def one(i: int) -> int:
        job = _job(i, n=2)
        await log.submit_async(lambda: log_records(job))
        return path.read_text().count(f'"request_id":"r{i}"')

    async def main() -> list[int]:
        return list(await asyncio.gather(*(one(i) for i in range(30))))

    counts = asyncio.run(main())
    log.close()
    assert counts == [2] * 30  # each coroutine saw its own lines on return


def test_a_full_log_refuses_new_lines_instead_of_buffering(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    one_request = len(log_records(_job(0))[0].to_json()) + 1
    log = PredictionLog(path, 1_000_000, max_pending_bytes=2 * one_request + one_request // 2)
    log.handler.acquire()  # a disk that does not keep up: the writer waits for the file
    try:
        first = threading.Thread(target=log.submit, args=(lambda: log_records(_job(1)),))
        second = threading.Thread(target=log.submit, args=(lambda: log_records(_job(2)),))
        first.start()
        second.start()
        deadline = time.monotonic() + 10
        while log.pending_bytes < one_request * 3 // 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(LogOverloadedError, match="max_pending_bytes"):
            log.submit(lambda: log_records(_job(3)))  # refused at once, nothing buffered
        assert not path.exists() or "r1" not in path.read_text()  # nothing answered yet
    finally:
        log.handler.release()
    first.join(10)
    second.join(10)
    log.close()
    assert sorted(r.request_id for r in read_records(path)) == ["r1", "r2"]
    assert log.pending_bytes == 0


def test_one_request_larger_than_the_bound_is_still_written(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    log = PredictionLog(path, 1_000_000, max_pending_bytes=10)
    log.submit(lambda: log_records(_job(0, n=5)))
    log.close()
    assert sum(1 for _ in read_records(path)) == 5


def test_bad_settings_name_their_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"retention\.max_files"):
        Retention(max_files=-1)
    with pytest.raises(ValueError, match=r"retention\.max_age_days"):
        Retention(max_age_days=-2)
    with pytest.raises(ValueError, match=r"prediction_log\.max_bytes"):
        KeepingRotatingFileHandler(tmp_path / "p.jsonl", 0)
    with pytest.raises(ValueError, match=r"prediction_log\.max_pending_bytes"):
        PredictionLog(tmp_path / "p.jsonl", 1000, max_pending_bytes=0)


def test_writes_after_close_are_refused(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path / "p.jsonl", 1000)
    log.close()
    with pytest.raises(RuntimeError, match="closed"):
        log.submit(lambda: [])


def test_a_record_that_cannot_be_written_is_counted(tmp_path: Path) -> None:
    removed: list[Removal] = []
    log = PredictionLog(tmp_path / "p.jsonl", 1000, on_remove=removed.append)

    def broken() -> list:
        raise ValueError("no record")

    with pytest.raises(LogWriteError):  # the request is not answered as a success
        log.submit(broken)
    _fill(log, 2)
    assert [r.reason for r in removed] == ["write_error"]
    assert sum(1 for _ in read_records(tmp_path / "p.jsonl")) == 2


def test_a_full_shadow_queue_skips_the_shadow_not_the_record(tmp_path: Path) -> None:
    release = threading.Event()

    class BlockingShadow:
        info = ModelInfo("shadow", "s1", "h" * 32, "binary")

        def to_array(self, records: list[dict]) -> np.ndarray:
            return np.array([[r["x"]] for r in records], dtype=float)

        def score(self, x: np.ndarray) -> Scores:
            release.wait(5)
            pred = np.ones(len(x), dtype=int)
            return Scores(pred, np.column_stack([1 - pred, pred]).astype(float), [0, 1])

    path = tmp_path / "p.jsonl"
    outcomes: list[Outcome] = []
    rec = Recorder(PredictionLog(path, 1_000_000), BlockingShadow(), 10.0, 1, outcomes.append)
    for i in range(6):
        rec.submit(_job(i))
    release.set()
    rec.close()
    records = {r.request_id: r for r in read_records(path)}
    assert sorted(records) == [f"r{i}" for i in range(6)]  # all logged
    skipped = [r for r in records.values() if r.shadow is None]
    assert len(skipped) == rec.dropped >= 3
    assert sum(o.count for o in outcomes if o.kind == "skipped") == rec.dropped
    assert all(r.shadow.agree for r in records.values() if r.shadow is not None)


def test_files_stay_under_max_bytes_with_non_ascii_inputs(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    log = PredictionLog(path, 2000)
    for i in range(40):
        job = _job(i)
        job.records = [{"city": "Besançon-Zürich-Łódź" * 10}]
        log.submit(lambda job=job: log_records(job))
    log.close()
    assert len(log_files(path)) > 5
    assert all(f.stat().st_size <= 2000 for f in log_files(path))
    assert sum(1 for _ in read_records(path)) == 40
