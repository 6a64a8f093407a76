"""Two servers on one host keep their own ``/metrics`` (issue 20 §3).

A production server and a canary server (``pr2prod serve`` twice, real BentoML over HTTP on
127.0.0.1, the same BentoML home) answer interleaved requests. Before each server had its own
Prometheus multiprocess directory, the second one emptied and then shared the first's, so
``/metrics`` showed the other server's series and ``canary-report`` read wrong error rates.
Each scrape, read by the parser ``canary-report`` uses, must count exactly its own answers.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from _serving import start_serve
from pr2prod.canary.evidence import read_metrics
from pr2prod.logrecord.variant import VARIANT_HEADER, Variant
from pr2prod.models.persist import load_artifact
from pr2prod.serving.launch import metrics_dir

pytestmark = [pytest.mark.integration]

ID_FIELD = "customer_id"
N_PROD, N_CANARY = 30, 40


def _params(project: Path, dest: Path) -> Path:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["serve"].update(
        id_field=ID_FIELD,
        prediction_log={"enabled": True, "path": str(dest.parent / "p.jsonl"), "max_bytes": 10**7},
    )
    dest.write_text(yaml.safe_dump(params))
    return dest


def _requests_total(text: str, endpoint: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == "bentoml_service_request_total" and s.labels.get("endpoint") == endpoint
    )


def test_production_and_canary_servers_on_one_host_count_only_their_own_answers(
    trained_project: Path, tmp_path: Path
) -> None:
    model = trained_project / "models" / "model"
    names = load_artifact(model).schema.feature_names
    test = pd.read_parquet(trained_project / "data" / "prepared" / "test.parquet")
    rows = test[names].sample(N_CANARY, replace=True, random_state=5).to_dict("records")
    (tmp_path / "prod").mkdir()
    (tmp_path / "canary").mkdir()
    prod = start_serve(
        model, _params(trained_project, tmp_path / "prod/params.yaml"), tmp_path / "prod"
    )
    try:
        canary = start_serve(
            model,
            _params(trained_project, tmp_path / "canary/params.yaml"),
            tmp_path / "canary",
            "--canary-model",
            str(model),
            "--canary-share",
            "0.5",
        )
    except BaseException:
        prod.stop()
        raise
    try:
        assert metrics_dir(prod.port) != metrics_dir(canary.port)
        answered: Counter[str] = Counter()
        with prod.client() as p, canary.client() as c:
            for i in range(N_CANARY):  # interleaved, so both servers write at the same time
                if i < N_PROD:
                    r = p.post("/predict", json={"record": {**rows[i], ID_FIELD: i}})
                    assert r.status_code == 200, r.text
                r = c.post("/predict", json={"record": {**rows[i], ID_FIELD: i}})
                assert r.status_code == 200, r.text
                answered[r.headers[VARIANT_HEADER]] += 1
            prod_text, canary_text = p.get("/metrics").text, c.get("/metrics").text
        assert answered[Variant.canary.value] > 0 and answered[Variant.prod.value] > 0

        assert _requests_total(prod_text, "/predict") == N_PROD
        assert _requests_total(canary_text, "/predict") == N_CANARY
        on_prod = read_metrics(f"{prod.base_url}/metrics").counts
        on_canary = read_metrics(f"{canary.base_url}/metrics").counts
        assert Variant.canary not in on_prod
        assert (on_prod[Variant.prod].ok, on_prod[Variant.prod].error) == (N_PROD, 0)
        for variant in (Variant.prod, Variant.canary):
            assert on_canary[variant].ok == answered[variant.value]
            assert on_canary[variant].error == 0
    finally:
        canary.stop()
        prod.stop()
