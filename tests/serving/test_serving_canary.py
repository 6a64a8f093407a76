"""Canary routing (``serve.canary``) on a real server over HTTP: the configured share of the
records is answered by the canary, sticky by id; every answer, log record and ``/metrics``
series says which variant answered; bad values are refused naming the key.

Share tolerance: over ``n`` records each routed to the canary with probability ``share``
(a uniform hash of the id, or a random draw without one), the observed share is binomial;
the tests accept ``|observed - share| <= 4 * sqrt(share * (1 - share) / n)`` (a false
failure once in about 16,000 runs for the random draw; the id hash is deterministic).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sklearn.base import clone

from _project import env
from _serving import Server, free_port, serve_cmd, start_serve
from pr2prod.logrecord import read_records
from pr2prod.logrecord.variant import (
    OUTCOME_OK,
    VARIANT_HEADER,
    VARIANT_LATENCY_METRIC,
    VARIANT_REQUESTS_METRIC,
    Variant,
)
from pr2prod.models.persist import load_artifact, write_artifact
from pr2prod.serving.predictor import Predictor

pytestmark = [pytest.mark.slow]

ID_FIELD = "customer_id"
SHARE = 0.3
N_IDS = 2000
BATCH = 1000  # serve.limits.max_batch_size


def tolerance(share: float, n: int) -> float:
    """Four binomial standard deviations of an observed share over ``n`` records."""
    return 4 * math.sqrt(share * (1 - share) / n)


@pytest.fixture(scope="module")
def canary_dir(trained_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second model: production's pipeline refitted on 80 training rows (other answers)."""
    prod = load_artifact(trained_project / "models" / "model")
    train = pd.read_parquet(trained_project / "data" / "prepared" / "train.parquet").iloc[:80]
    pipe = clone(prod.pipeline).fit(train[prod.schema.feature_names], train[prod.schema.target])
    out = tmp_path_factory.mktemp("canary") / "model"
    write_artifact(out, pipe, prod.schema, {**prod.metadata, "note": "canary of the tests"})
    return out


@pytest.fixture(scope="module")
def records(trained_project: Path, trained_model_dir: Path) -> list[dict]:
    names = load_artifact(trained_model_dir).schema.feature_names
    test = pd.read_parquet(trained_project / "data" / "prepared" / "test.parquet")
    rows = test[names].sample(N_IDS, replace=True, random_state=3).reset_index(drop=True)
    return rows.to_dict("records")


def _params(project: Path, dest: Path, log: Path) -> Path:
    """Params for a server whose working directory is ``dest``'s, logging to ``log`` there
    (a config names output paths relative to the project: config/outputs.py)."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["serve"].update(
        id_field=ID_FIELD,
        prediction_log={
            "enabled": True,
            "path": log.relative_to(dest.parent).as_posix(),
            "max_bytes": 50_000_000,
        },
    )
    dest.write_text(yaml.safe_dump(params))
    return dest


def _start(project: Path, tmp: Path, *extra: str) -> tuple[Server, Path]:
    log = tmp / "predictions.jsonl"
    params = _params(project, tmp / "params.yaml", log)
    return start_serve(project / "models" / "model", params, tmp, *extra), log


@pytest.fixture(scope="module")
def canary_server(
    trained_project: Path, canary_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Path]]:
    tmp = tmp_path_factory.mktemp("canary_server")
    server, log = _start(
        trained_project, tmp, "--canary-model", str(canary_dir), "--canary-share", str(SHARE)
    )
    yield server, log
    server.stop()


def _batch(server: Server, recs: list[dict], ids: list | None, rid: str) -> dict:
    body = recs if ids is None else [{**r, ID_FIELD: i} for r, i in zip(recs, ids, strict=True)]
    with server.client() as c:
        r = c.post("/predict_batch", json={"records": body}, headers={"x-request-id": rid})
    assert r.status_code == 200, r.text
    return r.json()


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        named = line.startswith((name + "{", name + " "))
        if named and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _wait_records(log: Path, n: int, timeout: float = 60) -> list:
    import time

    deadline = time.monotonic() + timeout
    got: list = []
    while time.monotonic() < deadline:
        got = list(read_records(log)) if log.exists() else []
        if len(got) >= n:
            return got
        time.sleep(0.3)
    raise AssertionError(f"{log}: {len(got)} records after {timeout}s, expected {n}")


def test_canary_answers_its_share_sticky_by_id_and_says_so_everywhere(
    canary_server: tuple[Server, Path],
    canary_dir: Path,
    trained_model_dir: Path,
    records: list[dict],
) -> None:
    server, log = canary_server
    with server.client() as c:
        metrics_before = c.get("/metrics").text
    prod, canary = Predictor.from_dir(trained_model_dir), Predictor.from_dir(canary_dir)
    models = {Variant.prod: prod, Variant.canary: canary}

    # 1. share over N_IDS ids, in two /predict_batch requests
    answers: list[dict] = []
    bodies = []
    for b in range(N_IDS // BATCH):
        lo = b * BATCH
        ids = list(range(lo, lo + BATCH))
        body = _batch(server, records[lo : lo + BATCH], ids, f"batch-{b}")
        bodies.append(body)
        answers += body["predictions"]
    assert [a["id"] for a in answers] == list(range(N_IDS))  # reassembled in request order
    variants = [Variant(a["variant"]) for a in answers]
    observed = variants.count(Variant.canary) / N_IDS
    print(f"\nobserved canary share {observed:.4f} over {N_IDS} ids (configured {SHARE})")
    assert abs(observed - SHARE) <= tolerance(SHARE, N_IDS), observed
    # each record answered by the model of its variant
    for variant, model in models.items():
        idx = [i for i, v in enumerate(variants) if v == variant]
        expected = model.score(model.to_array([records[i] for i in idx]))
        assert [answers[i]["label"] for i in idx] == [
            expected.output(k)["label"] for k in range(len(idx))
        ]
    differ = sum(
        prod.score(prod.to_array([records[i]])).output(0) != answers[i]
        for i, v in enumerate(variants[:300])
        if v == Variant.canary
    )
    assert differ > 0  # the canary really is another model
    for body in bodies:
        assert body["model_version"] == prod.info.version
        assert body["canary_model"] == canary.info.as_dict()

    # 2. sticky: the same id meets the same variant on /predict, as int and as string
    single: dict[str, Variant] = {}
    with server.client() as c:
        for i in range(40):
            for ident in (i, str(i)):
                r = c.post(
                    "/predict",
                    json={"record": {**records[i], ID_FIELD: ident}},
                    headers={"x-request-id": f"one-{ident!r}"},
                )
                assert r.status_code == 200, r.text
                out = r.json()
                assert out["variant"] == r.headers[VARIANT_HEADER] == variants[i]
                info = models[Variant(out["variant"])].info.as_dict()
                assert {k: out[k] for k in info} == info
                single[f"one-{ident!r}"] = Variant(out["variant"])
        metrics_after = c.get("/metrics").text
    assert set(single.values()) == {Variant.prod, Variant.canary}

    # 3. the log written by the server, read back by the log's own reader
    logged = _wait_records(log, N_IDS + len(single))
    by_row = {(r.request_id, r.index): r for r in logged}
    for b, body in enumerate(bodies):
        for k, answer in enumerate(body["predictions"]):
            rec = by_row[(f"batch-{b}", k)]
            assert rec.answered_by == answer["variant"] and rec.id == answer["id"]
            assert rec.model.model_dump() == models[rec.answered_by].info.as_dict()
    for rid, variant in single.items():
        rec = by_row[(rid, 0)]
        assert rec.variant == variant
        assert rec.model.artifact_hash == models[variant].info.artifact_hash
    assert Counter(r.answered_by for r in logged)[Variant.canary] == variants.count(
        Variant.canary
    ) + sum(v == Variant.canary for v in single.values())

    # 4. /metrics: requests per variant and outcome, latency per variant
    def delta(name: str, **labels: str) -> float:
        return _metric(metrics_after, name, **labels) - _metric(metrics_before, name, **labels)

    requests = f"{VARIANT_REQUESTS_METRIC}_total"
    for variant in Variant:
        expected = len(bodies) + sum(v == variant for v in single.values())
        assert delta(requests, variant=variant.value, outcome=OUTCOME_OK) == expected
        assert delta(f"{VARIANT_LATENCY_METRIC}_count", variant=variant.value) == expected


def test_without_ids_each_record_is_routed_at_random_with_the_share(
    canary_server: tuple[Server, Path], records: list[dict]
) -> None:
    server, _ = canary_server
    variants: list[str] = []
    for b in range(N_IDS // BATCH):
        body = _batch(server, records[b * BATCH : (b + 1) * BATCH], None, f"noid-{b}")
        assert all("id" not in p for p in body["predictions"])
        variants += [p["variant"] for p in body["predictions"]]
    observed = variants.count("canary") / N_IDS
    print(f"\nobserved canary share without ids {observed:.4f} over {N_IDS} records")
    assert abs(observed - SHARE) <= tolerance(SHARE, N_IDS), observed


def test_share_zero_sends_everything_to_production(
    trained_project: Path, canary_dir: Path, records: list[dict], tmp_path: Path
) -> None:
    server, log = _start(
        trained_project, tmp_path, "--canary-model", str(canary_dir), "--canary-share", "0"
    )
    try:
        body = _batch(server, records[:500], list(range(500)), "zero")
        with server.client() as c:
            one = c.post("/predict", json={"record": records[0]})
    finally:
        server.stop()
    assert {p["variant"] for p in body["predictions"]} == {"prod"}
    assert "canary_model" not in body
    assert one.json()["variant"] == one.headers[VARIANT_HEADER] == "prod"
    assert {r.answered_by for r in _wait_records(log, 501)} == {Variant.prod}


def _serve_fails(project: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    params = _params(project, tmp / "params.yaml", tmp / "p.jsonl")
    cmd = serve_cmd(project / "models" / "model", params, free_port(), *extra)
    proc = subprocess.run(
        cmd, cwd=tmp, env=env(), capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode != 0, proc.stdout + proc.stderr
    return proc


def test_bad_canary_options_are_refused_naming_the_key(
    trained_project: Path, canary_dir: Path, tmp_path: Path
) -> None:
    share = _serve_fails(
        trained_project, tmp_path, "--canary-model", str(canary_dir), "--canary-share", "1.5"
    )
    assert "serve.canary.share: 1.5 is outside the allowed range [0, 1]" in share.stderr
    no_model = _serve_fails(trained_project, tmp_path, "--canary-share", "0.2")
    assert "serve.canary.model_path: null while serve.canary.enabled is true" in no_model.stderr
    both = _serve_fails(
        trained_project, tmp_path, "--canary-model", str(canary_dir), "--shadow", str(canary_dir)
    )
    assert "serve.shadow.enabled and serve.canary.enabled" in both.stderr


def test_a_canary_that_cannot_answer_production_requests_stops_the_server(
    trained_project: Path, canary_dir: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    shutil.copytree(canary_dir, other)
    schema = json.loads((other / "schema.json").read_text())
    schema["features"][0]["name"] += "_v2"
    (other / "schema.json").write_text(json.dumps(schema))
    proc = _serve_fails(trained_project, tmp_path, "--canary-model", str(other))
    assert proc.returncode == 3
    assert "serve.canary.model_path:" in proc.stderr and "_v2" in proc.stderr
    (other / "model.skops").write_bytes(b"not a skops archive")
    proc = _serve_fails(trained_project, tmp_path, "--canary-model", str(other))
    assert proc.returncode == 3 and "serve.canary.model_path:" in proc.stderr
