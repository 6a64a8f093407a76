"""The compiled scoring path equals the artifact's own pipeline, and falls back safely."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pr2prod.models.persist import load_artifact
from pr2prod.serving.predictor import Predictor


@pytest.fixture(scope="module")
def test_split(trained_project: Path) -> pd.DataFrame:
    return pd.read_parquet(trained_project / "data" / "prepared" / "test.parquet")


def test_compiled_path_passes_parity_and_matches_pipeline(
    trained_model_dir: Path, test_split: pd.DataFrame
) -> None:
    predictor = Predictor.from_dir(trained_model_dir)
    assert predictor.compiled is not None, predictor.parity
    assert predictor.parity.startswith("passed")
    native = load_artifact(trained_model_dir).pipeline
    x_df = test_split[predictor.names]
    scores = predictor.score(predictor.to_array(x_df.to_dict("records")))
    assert np.array_equal(scores.pred, native.predict(x_df))
    assert np.array_equal(scores.proba, native.predict_proba(x_df))


def test_native_path_gives_the_same_outputs(
    trained_model_dir: Path, test_split: pd.DataFrame
) -> None:
    fast = Predictor.from_dir(trained_model_dir)
    slow = Predictor.from_dir(trained_model_dir, fast_path=False)
    assert slow.compiled is None
    assert slow.parity == "disabled"
    x = fast.to_array(test_split[fast.names].to_dict("records"))
    a, b = fast.score(x), slow.score(x)
    assert np.array_equal(a.pred, b.pred)
    np.testing.assert_allclose(a.proba, b.proba, rtol=1e-12, atol=0)
    assert a.output(0).keys() == {"label", "probabilities"}


def test_out_of_range_names_the_feature(trained_model_dir: Path) -> None:
    p = Predictor.from_dir(trained_model_dir)
    schema = json.loads((trained_model_dir / "schema.json").read_text())
    first = schema["features"][0]
    rec = {f["name"]: f["stats"]["quantiles"]["0.5"] for f in schema["features"]}
    assert p.out_of_range(p.to_array([rec])) == []
    rec[first["name"]] = first["max"] * 10
    assert p.out_of_range(p.to_array([rec])) == [first["name"]]
