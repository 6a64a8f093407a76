"""Scoring and request validation across tasks and feature kinds (real trained artifacts)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _project import make_project, repro
from pr2prod.serving.predictor import Predictor
from pr2prod.serving.request import example_record, record_model, response_models

pytestmark = pytest.mark.slow

CASES = {
    "multiclass_categorical": [
        "data=synthetic",
        "data.task=multiclass",
        "data.synthetic.n_classes=3",
        "data.synthetic.n_rows=400",
        "model=logistic_regression",
    ],
    "regression": ["data=diabetes", "model=ridge"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_scoring_matches_pipeline_and_requests_validate(case: str, tmp_path: Path) -> None:
    project = make_project(tmp_path / case, CASES[case])
    repro(project, "train")
    predictor = Predictor.from_dir(project / "models" / "model")
    test = pd.read_parquet(project / "data" / "prepared" / "test.parquet")
    x_df = test[predictor.names]
    pipe = predictor.model.pipeline
    records = record_model(predictor.schema)
    validated = [dict(vars(records.model_validate(r))) for r in x_df.to_dict("records")]
    scores = predictor.score(predictor.to_array(validated))
    assert np.array_equal(scores.pred, pipe.predict(x_df))
    if predictor.task == "regression":
        assert scores.output(0).keys() == {"value"}
    else:
        np.testing.assert_allclose(scores.proba, pipe.predict_proba(x_df), rtol=1e-12, atol=0)
        out = scores.output(0)
        assert set(out["probabilities"]) == {str(c) for c in predictor.schema.labels}
    records.model_validate(example_record(predictor.schema))
    one, batch = response_models(predictor.schema)
    info = {"request_id": "r", "variant": "prod", **predictor.info.as_dict()}
    body = one.model_validate({**scores.output(0), **info}).model_dump(mode="json")
    fields = {"value"} if predictor.task == "regression" else {"label", "probabilities"}
    assert set(body) == fields | set(info) and None not in body.values()
    # the schema documents the optional id too; it is omitted when the request carried none
    assert set(one.model_json_schema(mode="serialization")["properties"]) == set(body) | {"id"}
    outs = [{**scores.output(i), "variant": "prod"} for i in range(3)]
    batch_info = {k: v for k, v in info.items() if k != "variant"}
    answer = batch.model_validate({**batch_info, "predictions": outs}).model_dump(mode="json")
    assert answer["predictions"] == outs
    assert predictor.parity.startswith("passed"), predictor.parity
