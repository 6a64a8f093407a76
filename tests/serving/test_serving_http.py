"""A real server process on loopback: the built Bento, and `pr2prod serve` with shadows."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from _project import BIN, run
from _serving import Server, free_port, start_serve, wait_for_lines
from pr2prod.logrecord import PredictionRecord
from pr2prod.models.persist import load_artifact

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serving_http")]


@pytest.fixture(scope="module")
def test_split(trained_project: Path) -> pd.DataFrame:
    return pd.read_parquet(trained_project / "data" / "prepared" / "test.parquet")


@pytest.fixture(scope="module")
def bento_server(
    trained_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Path]]:
    """`bentoml serve <Bento>` of the Bento the package stage built."""
    tmp = tmp_path_factory.mktemp("bento_server")
    log = tmp / "predictions.jsonl"
    tag = json.loads((trained_project / "reports" / "bento.json").read_text())["bento_tag"]
    port = free_port()
    server = Server(
        [str(BIN / "bentoml"), "serve", tag, "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp,
        log=tmp / "server.log",
        port=port,
        extra_env={"PR2PROD_SERVE_CONFIG": json.dumps({"prediction_log": {"path": str(log)}})},
    )
    server.wait_ready()
    yield server, log
    server.stop()


def _params_with(project: Path, dest: Path, **serve: object) -> Path:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["serve"].update(serve)
    dest.write_text(yaml.safe_dump(params))
    return dest


def _cli_server(project: Path, tmp: Path, shadow: Path) -> tuple[Server, Path]:
    log = tmp / "predictions.jsonl"
    params = _params_with(
        project,
        tmp / "params.yaml",
        prediction_log={"enabled": True, "path": str(log), "max_bytes": 10_000_000},
    )
    server = start_serve(project / "models" / "model", params, tmp, "--shadow", str(shadow))
    return server, log


@pytest.fixture(scope="module")
def shadow_server(
    trained_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Path]]:
    """`pr2prod serve` with the same artifact (copied) as its shadow."""
    tmp = tmp_path_factory.mktemp("shadow_server")
    shadow = tmp / "candidate"
    shutil.copytree(trained_project / "models" / "model", shadow)
    server, log = _cli_server(trained_project, tmp, shadow)
    yield server, log
    server.stop()


@pytest.fixture(scope="module")
def broken_shadow_server(
    trained_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Path]]:
    """A shadow that expects a feature production never sends: it fails on every call."""
    tmp = tmp_path_factory.mktemp("broken_shadow")
    shadow = tmp / "candidate"
    shutil.copytree(trained_project / "models" / "model", shadow)
    schema = json.loads((shadow / "schema.json").read_text())
    schema["features"][0]["name"] += "_v2"
    (shadow / "schema.json").write_text(json.dumps(schema))
    server, log = _cli_server(trained_project, tmp, shadow)
    yield server, log
    server.stop()


def _records(df: pd.DataFrame, names: list[str]) -> list[dict]:
    return df[names].to_dict("records")


def test_predictions_equal_the_in_process_artifact(
    bento_server, trained_model_dir: Path, test_split: pd.DataFrame
) -> None:
    server, _ = bento_server
    model = load_artifact(trained_model_dir)
    names = model.schema.feature_names
    x = test_split[names]
    expected_label = model.pipeline.predict(x)
    expected_proba = model.pipeline.predict_proba(x)
    bento = json.loads((trained_model_dir.parents[1] / "reports" / "bento.json").read_text())
    with server.client() as c:
        resp = c.post("/predict_batch", json={"records": _records(test_split, names)})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert [p["label"] for p in body["predictions"]] == expected_label.tolist()
        got = np.array(
            [[p["probabilities"][str(k)] for k in model.schema.labels] for p in body["predictions"]]
        )
        assert np.array_equal(got, expected_proba)
        assert body["artifact_hash"] == bento["artifact_hash"]
        assert body["model_name"] == model.name
        assert body["model_version"] == bento["labels"]["version"]
        for i in range(0, len(x), 23):
            one = c.post("/predict", json={"record": _records(test_split.iloc[[i]], names)[0]})
            assert one.status_code == 200, one.text
            p = one.json()
            assert p["label"] == expected_label[i]
            single = model.pipeline.predict_proba(x.iloc[[i]])[0]
            np.testing.assert_allclose(
                [p["probabilities"][str(k)] for k in model.schema.labels],
                single,
                rtol=1e-12,
                atol=0,
            )
            assert p["artifact_hash"] == bento["artifact_hash"]


def _bad_requests(record: dict, first: str, n_limit: int) -> list[tuple[str, str, bytes, str]]:
    missing = {k: v for k, v in record.items() if k != first}
    return [
        ("missing field", "/predict", json.dumps({"record": missing}).encode(), first),
        (
            "wrong type",
            "/predict",
            json.dumps({"record": {**record, first: "abc"}}).encode(),
            first,
        ),
        (
            "NaN",
            "/predict",
            json.dumps({"record": record}).replace(json.dumps(record[first]), "NaN", 1).encode(),
            first,
        ),
        ("unknown field", "/predict", json.dumps({"record": {**record, "zz": 1}}).encode(), "zz"),
        (
            "oversized batch",
            "/predict_batch",
            json.dumps({"records": [record] * (n_limit + 1)}).encode(),
            "records",
        ),
        ("oversized body", "/predict_batch", b" " * 2_000_000, "body"),
        ("malformed JSON", "/predict", b'{"record": {', "json"),
        ("not JSON", "/predict", b"a=1", "content-type"),
    ]


def test_bad_requests_get_4xx_naming_the_field(
    bento_server, trained_model_dir: Path, test_split: pd.DataFrame
) -> None:
    server, _ = bento_server
    names = load_artifact(trained_model_dir).schema.feature_names
    record = _records(test_split.iloc[[0]], names)[0]
    for kind, path, body, field in _bad_requests(record, names[0], 1000):
        ctype = "application/x-www-form-urlencoded" if kind == "not JSON" else "application/json"
        with server.client() as c:
            r = c.post(path, content=body, headers={"content-type": ctype})
        assert 400 <= r.status_code < 500, (kind, r.status_code, r.text[:300])
        assert field.lower() in r.text.lower(), (kind, r.text[:300])


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        named = line.startswith((name + "{", name + " "))
        if named and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_requests_and_predictions(
    bento_server, trained_model_dir: Path, test_split: pd.DataFrame
) -> None:
    server, _ = bento_server
    names = load_artifact(trained_model_dir).schema.feature_names
    record = _records(test_split.iloc[[0]], names)[0]
    with server.client() as c:
        before = c.get("/metrics").text
        for _ in range(5):
            assert c.post("/predict", json={"record": record}).status_code == 200
        far = {**record, names[1]: 1e9}
        assert c.post("/predict", json={"record": far}).status_code == 200
        assert c.post("/predict", json={"record": {}}).status_code == 400
        after = c.get("/metrics").text
    # requests and latency are BentoML's built-in metrics (pr2prod's guard sits inside them)
    name = "bentoml_service_request_total"
    ok = _metric(after, name, endpoint="/predict", http_response_code="200") - _metric(
        before, name, endpoint="/predict", http_response_code="200"
    )
    bad = _metric(after, name, endpoint="/predict", http_response_code="400") - _metric(
        before, name, endpoint="/predict", http_response_code="400"
    )
    assert (ok, bad) == (6, 1)
    assert not re.search(r"^pr2prod_request", after, re.M)  # no second count of the same
    assert (
        _metric(after, "pr2prod_predictions_total") - _metric(before, "pr2prod_predictions_total")
        == 6
    )
    assert _metric(after, "pr2prod_out_of_range_inputs_total", feature=names[1]) >= 1
    latency = "bentoml_service_request_duration_seconds_count"
    assert (
        _metric(after, latency, endpoint="/predict") - _metric(before, latency, endpoint="/predict")
        == 7
    )
    assert re.search(r"^pr2prod_shadow_disagreements_total", after, re.M)


def test_health_endpoints_and_prediction_log(
    bento_server, trained_model_dir: Path, test_split: pd.DataFrame
) -> None:
    server, log = bento_server
    names = load_artifact(trained_model_dir).schema.feature_names
    with server.client() as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200
        r = c.post(
            "/predict",
            json={"record": _records(test_split.iloc[[3]], names)[0]},
            headers={"x-request-id": "req-under-test"},
        )
    assert r.json()["request_id"] == "req-under-test"
    for _ in range(100):
        entries = [PredictionRecord.model_validate_json(x) for x in wait_for_lines(log, 1)]
        mine = [e for e in entries if e.request_id == "req-under-test"]
        if mine:
            break
    e = mine[0]
    assert e.inputs == _records(test_split.iloc[[3]], names)[0]
    assert e.output.label == r.json()["label"]
    assert e.model.artifact_hash == r.json()["artifact_hash"]
    assert e.shadow is None


def test_schemathesis_all_checks_on_the_bento(bento_server) -> None:
    """The built Bento serves the same document (the full run is in test_serving_hostile)."""
    server, _ = bento_server
    st = Path(sys.executable).parent / "st"
    proc = run(
        [
            str(st),
            "run",
            f"{server.base_url}/docs.json",
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--generation-deterministic",
            "--request-timeout",
            "10",
        ],
        Path(server.log).parent,
        check=False,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_shadow_mode_logs_both_predictions(
    shadow_server, trained_model_dir: Path, test_split: pd.DataFrame, tmp_path: Path
) -> None:
    server, log = shadow_server
    names = load_artifact(trained_model_dir).schema.feature_names
    with server.client() as c:
        r = c.post("/predict_batch", json={"records": _records(test_split.iloc[:10], names)})
        assert r.status_code == 200
        one = c.post("/predict", json={"record": _records(test_split.iloc[[0]], names)[0]})
        assert one.status_code == 200
    entries = [PredictionRecord.model_validate_json(x) for x in wait_for_lines(log, 11)]
    assert all(e.shadow is not None and e.shadow.agree is True for e in entries)
    assert [e.shadow.output.label for e in entries[:10] if e.shadow and e.shadow.output] == [
        p["label"] for p in r.json()["predictions"]
    ]
    assert entries[0].shadow.model.artifact_hash == r.json()["artifact_hash"]
    assert r.json()["model_version"] == r.json()["artifact_hash"][:12]
    report = run([str(BIN / "pr2prod"), "shadow-report", str(log), "--json"], tmp_path)
    summary = json.loads(report.stdout)
    assert summary["agreement_rate"] == 1.0
    assert summary["compared"] == 11
    assert summary["shadow_latency_ms"]["p50"] is not None


def test_crashing_shadow_leaves_responses_correct(
    broken_shadow_server, trained_model_dir: Path, test_split: pd.DataFrame
) -> None:
    server, log = broken_shadow_server
    model = load_artifact(trained_model_dir)
    names = model.schema.feature_names
    x = test_split[names].iloc[:20]
    with server.client() as c:
        r = c.post("/predict_batch", json={"records": _records(test_split.iloc[:20], names)})
    assert r.status_code == 200
    assert [p["label"] for p in r.json()["predictions"]] == model.pipeline.predict(x).tolist()
    entries = [PredictionRecord.model_validate_json(x) for x in wait_for_lines(log, 20)]
    assert all(e.shadow and e.shadow.error and e.shadow.output is None for e in entries)
    assert all(
        e.output.label == p["label"] for e, p in zip(entries, r.json()["predictions"], strict=True)
    )
    with server.client() as c:
        metrics = c.get("/metrics").text
    assert _metric(metrics, "pr2prod_shadow_total", outcome="error") >= 20


def test_service_example_input_is_served(bento_server, trained_model_dir: Path, tmp_path: Path):
    """The service file's EXAMPLE_INPUT (also its OpenAPI example) is a valid request."""
    server, _ = bento_server
    code = (
        "import json; from pr2prod.serving.service import EXAMPLE_INPUT as E; print(json.dumps(E))"
    )
    env = {**os.environ, "PR2PROD_MODEL_DIR": str(trained_model_dir)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    example = json.loads(out.strip().splitlines()[-1])
    with server.client() as c:
        r = c.post("/predict", json={"record": example})
    assert r.status_code == 200, r.text
    assert set(example) == set(load_artifact(trained_model_dir).schema.feature_names)
