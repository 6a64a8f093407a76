"""The cheaper paths of prepare, validate and evaluate give what the plain ones gave (issue 23).

Each faster routine is compared with the straightforward computation it replaces, written
out here: same rows, same statistics, same findings, same JSON characters.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from pr2prod.config.schema import SyntheticConfig
from pr2prod.data.schema import QUANTILES, discrete_stats, numeric_stats
from pr2prod.data.sources import make_synthetic
from pr2prod.data.split import split_frame
from pr2prod.data.tables import read_split
from pr2prod.data.validate import _constant
from pr2prod.evaluate.metrics import predict
from pr2prod.evaluate.plots import classification_plots
from pr2prod.fsio import json_text

pytestmark = [pytest.mark.unit]


def _frame(n: int = 3000) -> pd.DataFrame:
    cfg = SyntheticConfig(n_rows=n, n_features=4, n_informative=2, n_categorical=2, seed=3)
    df = make_synthetic(cfg, "binary")
    df.insert(0, "row_id", np.arange(n, dtype=np.int64))
    return df


def test_synthetic_categories_are_the_named_codes() -> None:
    df = _frame(500)
    rng = np.random.default_rng(3)  # make_synthetic's generator, after make_classification
    codes = rng.integers(0, 4, size=500)
    assert df["c0"].dtype == "string"
    assert df["c0"].tolist() == [f"cat{c}" for c in codes]


@pytest.mark.parametrize("stratify", [True, False])
def test_split_takes_the_rows_splitting_the_frame_and_sorting_gives(stratify: bool) -> None:
    df = _frame()
    strat = df["target"] if stratify else None
    want = [
        part.sort_index().reset_index(drop=True)
        for part in train_test_split(df, test_size=0.2, random_state=42, stratify=strat)
    ]
    got = split_frame(df, "target", 0.2, stratify, 42, "binary")
    for a, b in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_split_of_a_frame_indexed_out_of_order_sorts_by_its_index() -> None:
    df = _frame(400)
    df.index = np.arange(400)[::-1]
    train, _ = split_frame(df, "target", 0.25, True, 1, "binary")
    assert train["row_id"].tolist() == sorted(train["row_id"], reverse=True)


def test_numeric_stats_match_per_quantile_and_unique_counts() -> None:
    rng = np.random.default_rng(0)
    values = pd.Series(np.concatenate([rng.integers(0, 7, 997).astype(float), [np.nan] * 3]))
    values[5] = -0.0
    stats = numeric_stats(values)
    v = values.dropna().to_numpy()
    assert stats["quantiles"] == {str(q): float(np.quantile(v, q)) for q in QUANTILES}
    uniq, counts = np.unique(v, return_counts=True)
    assert stats["distinct"] == uniq.size == 7
    assert list(stats["values"].values()) == [c / v.size for c in counts]
    assert discrete_stats(np.sort(v), assume_sorted=True) == discrete_stats(v)


@pytest.mark.parametrize(
    "values",
    [
        [1.0, 1.0, np.nan],
        [0.0, -0.0],
        [1.0, 2.0],
        [np.inf, np.inf],
        [3, 3, 3],
        ["a", "a", None],
        ["a", "b"],
    ],
)
def test_constant_is_nunique_at_most_one(values: list) -> None:
    s = pd.Series(values)
    assert _constant(s) == (s.nunique(dropna=True) <= 1)


@pytest.mark.parametrize(
    "data",
    [
        [{"actual": "0", "predicted": "1"}, {"predicted": "0", "actual": "0"}] * 50,
        [{"fpr": 0.0, "tpr": 0.1, "curve": "1 vs rest"}, {"fpr": -0.0, "tpr": 1e-17}],
        [{"a": 'é\n"x"', "b": "1"}, {"a": 'é\n"x"', "b": "1"}, {"a": 1, "b": True}],
        [{}, {"n": {"deep": [1, 2]}}, {"1": "x"}],
        [],
        {"accuracy": 0.5},
        [1, 2],
    ],
)
def test_json_text_is_json_dumps(data: object) -> None:
    assert json_text(data) == json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"


@pytest.mark.parametrize(
    "final", [LogisticRegression(), DecisionTreeClassifier(max_depth=4, random_state=0)]
)
def test_predict_transforms_once_with_the_pipelines_own_results(final: object) -> None:
    df = _frame()
    x, y = df.drop(columns=["target", "row_id"]), df["target"]
    columns = ColumnTransformer(
        [
            ("num", StandardScaler(), [f"f{i}" for i in range(4)]),
            ("cat", OneHotEncoder(), ["c0", "c1"]),
        ]
    )
    pipe = Pipeline([("columns", columns), ("model", final)]).fit(x, y)
    pred, proba = predict(pipe, x, "binary")
    np.testing.assert_array_equal(pred, pipe.predict(x))
    np.testing.assert_array_equal(proba, pipe.predict_proba(x))


@pytest.mark.parametrize(
    ("y", "pred"),
    [
        (np.array([0, 1, 1, 2, 0]), np.array([1, 1, 0, 2, 2])),
        (np.array(["b", "a", "b"]), np.array(["a", "a", "b"])),
        (np.array([True, False]), np.array([False, False])),
        (np.array([0.0, -0.0, 1.0]), np.array([1.0, 0.0, -0.0])),  # floats: the plain path
    ],
)
def test_confusion_rows_are_each_rows_text(y: np.ndarray, pred: np.ndarray) -> None:
    want = [{"actual": str(a), "predicted": str(p)} for a, p in zip(y, pred, strict=True)]
    assert classification_plots(y, pred, None, [], bins=5, points=10)["confusion"] == want


def test_read_split_is_read_parquet(tmp_path) -> None:
    df = _frame(700)
    df.loc[3, "f1"] = np.nan
    df.loc[4, "c0"] = None
    path = tmp_path / "t.parquet"
    df.to_parquet(path, index=False)
    pd.testing.assert_frame_equal(read_split(path), pd.read_parquet(path))
    cols = ["f1", "c0", "target"]
    pd.testing.assert_frame_equal(read_split(path, cols), pd.read_parquet(path, columns=cols))
