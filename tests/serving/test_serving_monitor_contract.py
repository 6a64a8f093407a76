"""Contract: the real server (2 workers) writes a rotated log; the real monitor reads every
served record exactly once and drifts / charts on the served predictions."""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from _project import BIN, run
from _serving import Server, free_port, serve_cmd
from pr2prod.logrecord import log_files, read_records
from pr2prod.models.persist import load_artifact
from pr2prod.monitor.log import read_prediction_log

pytestmark = [pytest.mark.slow]

SINGLE, BATCHES, BATCH_SIZE = 60, 10, 10
EXPECTED = SINGLE + BATCHES * BATCH_SIZE


def _wait_for_records(log: Path, n: int, timeout: float = 60) -> int:
    """Records in the whole log once all ``n`` are written (the recorder writes off-path)."""
    deadline = time.monotonic() + timeout
    got = 0
    while time.monotonic() < deadline:
        try:
            got = sum(1 for _ in read_records(log))
        except FileNotFoundError:
            got = 0
        if got >= n:
            return got
        time.sleep(0.3)
    raise AssertionError(f"{log}: {got} records after {timeout}s, expected {n}")


def test_served_log_rotated_across_workers_is_monitored_once(
    trained_project: Path, tmp_path: Path
) -> None:
    model_dir = trained_project / "models" / "model"
    model = load_artifact(model_dir)
    names = model.schema.feature_names
    test = pd.read_parquet(trained_project / "data" / "prepared" / "test.parquet")
    rows = test.sample(EXPECTED, replace=True, random_state=7).reset_index(drop=True)
    log = tmp_path / "logs" / "predictions.jsonl"
    params = yaml.safe_load((trained_project / "params.yaml").read_text())
    params["serve"].update(
        workers=2,
        prediction_log={"enabled": True, "path": str(log), "max_bytes": 20_000},
    )
    params["monitor"]["alert"]["exit_code"] = 0
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    port = free_port()
    server = Server(
        serve_cmd(model_dir, tmp_path / "params.yaml", port),
        cwd=tmp_path,
        log=tmp_path / "server.log",
        port=port,
        extra_env={},
    )
    server.wait_ready()
    records = rows[names].to_dict("records")

    def single(i: int) -> tuple[str, object]:
        with httpx.Client(base_url=server.base_url, timeout=30) as c:
            r = c.post("/predict", json={"record": records[i]}, headers={"x-request-id": f"s{i}"})
        r.raise_for_status()
        return r.json()["request_id"], r.json()["label"]

    def batch(b: int) -> list[tuple[str, object]]:
        lo = SINGLE + b * BATCH_SIZE
        with httpx.Client(base_url=server.base_url, timeout=30) as c:
            r = c.post(
                "/predict_batch",
                json={"records": records[lo : lo + BATCH_SIZE]},
                headers={"x-request-id": f"b{b}"},
            )
        r.raise_for_status()
        return [(f"b{b}#{i}", p["label"]) for i, p in enumerate(r.json()["predictions"])]

    try:
        with ThreadPoolExecutor(8) as pool:
            served = dict(pool.map(single, range(SINGLE)))
            for part in pool.map(batch, range(BATCHES)):
                served.update(part)
        version = httpx.get(f"{server.base_url}/readyz", timeout=10)  # still alive
        assert version.status_code == 200
        assert _wait_for_records(log, EXPECTED) == EXPECTED
    finally:
        server.stop()
    assert len(served) == EXPECTED

    files = log_files(log)
    workers = {f.name.split(".w", 1)[1].split(".")[0] for f in files if ".w" in f.name}
    assert len(workers) == 2, [f.name for f in files]  # one file family per worker, both used
    assert all(".w" in f.name for f in files)
    assert sum(f.name.rsplit(".", 1)[-1].isdigit() for f in files) >= 2  # rotated twice+

    # labels arrive later for the single requests only (keyed by their X-Request-ID)
    labelled = {f"s{i}": rows.loc[i, "target"] for i in range(0, SINGLE, 2)}
    pd.DataFrame({"row_id": list(labelled), "target": list(labelled.values())}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    run(
        [
            str(BIN / "pr2prod"),
            "monitor",
            "--params",
            str(tmp_path / "params.yaml"),
            "--model",
            str(model_dir),
            "--log",
            str(log),
            "--labels",
            str(tmp_path / "labels.csv"),
        ],
        tmp_path,
    )
    report = json.loads((tmp_path / "reports" / "monitor.json").read_text())
    window = report["window"]
    assert window["rows"] == window["records"] == EXPECTED
    assert window["bad_lines"] == 0
    assert window["files"] == len(files)
    assert sum(report["model_versions"].values()) == EXPECTED
    assert report["prediction"]["evaluated"]
    counts = Counter(str(label) for label in served.values())
    assert report["prediction"]["frequencies"] == pytest.approx(
        {k: counts.get(k, 0) / EXPECTED for k in report["prediction"]["frequencies"]}
    )
    assert report["performance"]["labelled_rows"] == len(labelled)

    frame, _ = read_prediction_log(log)
    assert sorted(frame["row_id"]) == sorted(served)  # each served record exactly once
    by_id = dict(zip(frame["row_id"], frame["prediction"], strict=True))
    assert by_id == served
