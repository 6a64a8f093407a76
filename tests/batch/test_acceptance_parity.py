"""One acceptance rule: serving (the real request model) and batch (``score_table``) agree.

Every case (unknown category, missing value, out of range, ``max_abs_value``) is sent
through both paths with the default ``acceptance`` config and with the other decision, and
both must make the same decision for the same row. Batch input goes in as CSV and as Parquet
and must give the same result, including CSV cells that are empty in a categorical feature.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from _models import fit_binary_artifact
from pr2prod.batch.parquet_sink import PREDICTIONS_FILE, REJECTS_FILE
from pr2prod.batch.run import ScoreTargets, score_table
from pr2prod.config.acceptance_schema import AcceptanceConfig, Decision
from pr2prod.config.schema import FeaturesConfig
from pr2prod.data.schema import infer_schema
from pr2prod.models.build import build_preprocessor
from pr2prod.models.persist import LoadedModel, load_artifact, write_artifact
from pr2prod.serving.predictor import Predictor
from pr2prod.serving.request import record_model, request_models

ID = "customer_id"
GOOD: dict[str, Any] = {"age": 40.0, "income": 1000.0, "city": "paris"}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """A real fitted pipeline on a small table with a categorical feature and an id column."""
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame(
        {
            ID: np.arange(1000, 1000 + n),
            "age": rng.uniform(18, 90, n).round(1),
            "income": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 5000, n)),
            "city": rng.choice(["lyon", "nice", "paris"], n),
        }
    )
    df["y"] = ((df["age"] > 50) ^ (df["city"] == "nice")).astype(int)
    train, test = df.iloc[:150], df.iloc[150:]
    dest = tmp_path_factory.mktemp("acceptance") / "model"
    return fit_binary_artifact(train, test, "y", ID, dest, "acceptance-test")


# case -> (changed values, decision under the defaults, decision under the other config)
CONFIGS = {
    "default": AcceptanceConfig(),
    "other": AcceptanceConfig(
        unknown_category=Decision.flag, missing_value=Decision.flag, out_of_range=Decision.reject
    ),
}
CASES: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "valid": ({}, {"default": "accept", "other": "accept"}),
    "nullable feature null": ({"income": None}, {"default": "accept", "other": "accept"}),
    "unknown category": ({"city": "tokyo"}, {"default": "reject", "other": "accept"}),
    "missing category": ({"city": None}, {"default": "reject", "other": "accept"}),
    "missing number": ({"age": None}, {"default": "reject", "other": "accept"}),
    "above training max": ({"age": 120.0}, {"default": "accept", "other": "reject"}),
    "below training min": ({"age": 1.0}, {"default": "accept", "other": "reject"}),
    "above max_abs_value": ({"income": 1e13}, {"default": "reject", "other": "reject"}),
    "below -max_abs_value": ({"age": -1e13}, {"default": "reject", "other": "reject"}),
}
FLAGS = {  # what batch counts for an accepted row of a case that is flagged
    ("unknown category", "other"): "city: unknown category",
    ("missing category", "other"): "city: missing (not nullable)",
    ("missing number", "other"): "age: missing (not nullable)",
    ("above training max", "default"): "age: outside the training range",
    ("below training min", "default"): "age: outside the training range",
}


def _rows() -> list[dict[str, Any]]:
    return [{ID: i, **GOOD, **change} for i, (change, _) in enumerate(CASES.values())]


def _serving(model: LoadedModel, cfg: AcceptanceConfig) -> dict[int, set[str]]:
    """Fields the real request model refuses, per row id (``/predict_batch`` bodies)."""
    record = record_model(model.schema, acceptance=cfg, id_field=ID)
    _, batch_request = request_models(record, 1000)
    out: dict[int, set[str]] = {}
    for row in _rows():
        try:
            batch_request.model_validate({"records": [row]})
        except ValidationError as exc:
            out[row[ID]] = {str(e["loc"][2]) for e in exc.errors()}
        else:
            out[row[ID]] = set()
    return out


def _batch(model: LoadedModel, cfg: AcceptanceConfig, path: Path, out: Path):
    targets = ScoreTargets(parquet_dir=out)
    summary = score_table(model, path, targets, progress=False, acceptance=cfg)
    preds = pd.read_parquet(out / PREDICTIONS_FILE)
    rejects = pd.read_parquet(out / REJECTS_FILE)
    decisions = {int(i): "accept" for i in preds["row_id"]}
    decisions.update({int(i): "reject" for i in rejects["row_id"].dropna()})
    return decisions, preds, rejects, summary


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_serving_and_batch_make_the_same_decision(
    model: LoadedModel, config: str, fmt: str, tmp_path: Path
) -> None:
    cfg = CONFIGS[config]
    table = pd.DataFrame(_rows())
    path = tmp_path / f"input.{fmt}"
    table.to_csv(path, index=False) if fmt == "csv" else table.to_parquet(path)
    batch, _, rejects, summary = _batch(model, cfg, path, tmp_path / "out")
    refused = _serving(model, cfg)
    expected = {i: decisions[config] for i, (_, decisions) in enumerate(CASES.values())}
    assert {i: "reject" if fields else "accept" for i, fields in refused.items()} == expected
    assert batch == expected
    for i, (change, _) in enumerate(CASES.values()):  # online: the 400 names the feature
        assert refused[i] in (set(), set(change)), (i, refused[i])
    assert summary.rows_in == len(CASES)
    # reject reasons name the feature (and never a made-up id column)
    for _, rej in rejects.iterrows():
        change = list(CASES.values())[int(rej["row_id"])][0]
        assert all(name in rej["reason"] for name in change), rej["reason"]
    flagged = {k[0]: v for k, v in FLAGS.items() if k[1] == config}
    for case, flag in flagged.items():
        assert any(k.startswith(flag) for k in summary.flagged), (case, summary.flagged)
    assert sum(summary.flagged.values()) == len(flagged)


@pytest.mark.parametrize("config", list(CONFIGS))
def test_accepted_rows_score_the_same_online_and_in_batch(
    model: LoadedModel, config: str, tmp_path: Path
) -> None:
    cfg = CONFIGS[config]
    rows = _rows()
    path = tmp_path / "input.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    _, preds, _, _ = _batch(model, cfg, path, tmp_path / "out")
    predictor = Predictor(model, fast_path=False)
    record = record_model(model.schema, acceptance=cfg, id_field=ID)
    by_id = {r[ID]: r for r in rows}
    for _, p in preds.iterrows():
        rec = dict(vars(record.model_validate(by_id[int(p["row_id"])])))
        rec.pop(ID)
        online = predictor.score(predictor.to_array([rec]))
        assert online.pred[0] == p["prediction"]
        assert math.isclose(float(online.proba[0][1]), float(p["proba_1"]), rel_tol=1e-9)


def test_csv_with_missing_categories_scores_like_parquet(model: LoadedModel, tmp_path: Path):
    """Empty categorical cells in a CSV: scored (or rejected) exactly as Parquet nulls are."""
    cfg = AcceptanceConfig(missing_value=Decision.flag)
    rows = [{ID: i, **GOOD, "city": None if i % 3 == 0 else "lyon"} for i in range(30)]
    table = pd.DataFrame(rows)
    table.to_csv(tmp_path / "in.csv", index=False)
    table.to_parquet(tmp_path / "in.parquet")
    for c in (cfg, AcceptanceConfig()):
        _, from_csv, rej_csv, sum_csv = _batch(model, c, tmp_path / "in.csv", tmp_path / "a")
        _, from_pq, rej_pq, sum_pq = _batch(model, c, tmp_path / "in.parquet", tmp_path / "b")
        pd.testing.assert_frame_equal(from_csv, from_pq)
        pd.testing.assert_frame_equal(rej_csv, rej_pq)
        assert sum_csv.rows_scored == sum_pq.rows_scored
        assert sum_csv.rows_scored == (30 if c is cfg else 20)
        for d in (tmp_path / "a", tmp_path / "b"):
            for f in d.iterdir():
                f.unlink()
            d.rmdir()


def test_reject_reasons_name_the_datas_id_column(model: LoadedModel, tmp_path: Path) -> None:
    rows = [{ID: 1, **GOOD}, {ID: 1, **GOOD}, {ID: None, **GOOD}]
    path = tmp_path / "in.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    _, _, rejects, _ = _batch(model, AcceptanceConfig(), path, tmp_path / "out")
    assert sorted(rejects["reason"]) == [f"{ID}: duplicate within the input", f"{ID}: missing"]


def _serving_messages(model: LoadedModel, cfg: AcceptanceConfig) -> dict[int, set[str]]:
    """The messages of the real request model's refusals, per row id."""
    record = record_model(model.schema, acceptance=cfg, id_field=ID)
    out: dict[int, set[str]] = {}
    for row in _rows():
        try:
            record.model_validate(row)
        except ValidationError as exc:
            out[row[ID]] = {e["msg"] for e in exc.errors()}
        else:
            out[row[ID]] = set()
    return out


@pytest.mark.parametrize("config", list(CONFIGS))
def test_serving_refuses_in_the_words_batch_rejects(
    model: LoadedModel, config: str, tmp_path: Path
) -> None:
    """One rule, one wording: a 400's message is the batch reject reason, case by case."""
    path = tmp_path / "input.parquet"
    pd.DataFrame(_rows()).to_parquet(path)
    _, _, rejects, _ = _batch(model, CONFIGS[config], path, tmp_path / "out")
    in_batch = {int(r["row_id"]): set(r["reason"].split("; ")) for _, r in rejects.iterrows()}
    online = _serving_messages(model, CONFIGS[config])
    assert {i: m for i, m in online.items() if m} == in_batch
    assert in_batch  # the cases do refuse something under each config


YEARS = ["2007", "2008", "2009"]


@pytest.fixture(scope="module")
def year_model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """A declared categorical that looks numeric (``data.column_types.year: categorical``):
    stored as text, as ``declare_type`` stores it."""
    rng = np.random.default_rng(1)
    n = 150
    df = pd.DataFrame(
        {
            ID: np.arange(n),
            "age": rng.uniform(18, 90, n).round(1),
            "year": pd.Series(rng.choice(YEARS, n), dtype=pd.StringDtype(na_value=np.nan)),
        }
    )
    df["y"] = ((df["age"] > 50) ^ (df["year"] == "2008")).astype(int)
    schema = infer_schema(df.iloc[:120], df.iloc[120:], "binary", "y", ID)
    assert schema.feature("year").kind == "categorical"
    steps = build_preprocessor(FeaturesConfig(name="standard"), schema, "binary")
    pipeline = Pipeline([*steps, ("model", LogisticRegression())])
    pipeline.fit(df[schema.feature_names], df["y"])
    path = tmp_path_factory.mktemp("years") / "model"
    write_artifact(path, pipeline, schema, {"model_name": "years"})
    return load_artifact(path)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_numeric_looking_category_is_one_category_online_and_in_batch(
    year_model: LoadedModel, fmt: str, tmp_path: Path
) -> None:
    """``year`` sent as 2008, 2008.0 or "2008" is the category "2008" in both paths, scored
    alike; 2010 is refused by both with the same words."""
    record = record_model(year_model.schema, id_field=ID)
    for given in (2008, 2008.0, "2008"):
        assert record.model_validate({ID: 1, "age": 40.0, "year": given}).year == "2008"
    for given in (2010, "2010"):
        with pytest.raises(ValidationError) as exc:
            record.model_validate({ID: 1, "age": 40.0, "year": given})
        assert [e["msg"] for e in exc.value.errors()] == ["year: unknown category"]
    table = pd.DataFrame({ID: [0, 1], "age": [40.0, 60.0], "year": [2008, 2010]})  # numbers
    path = tmp_path / f"input.{fmt}"
    table.to_csv(path, index=False) if fmt == "csv" else table.to_parquet(path)
    decisions, preds, rejects, _ = _batch(year_model, AcceptanceConfig(), path, tmp_path / "o")
    assert decisions == {0: "accept", 1: "reject"}
    assert list(rejects["reason"]) == ["year: unknown category"]
    predictor = Predictor(year_model, fast_path=False)
    for given in (2008, "2008"):
        rec = dict(vars(record.model_validate({ID: 0, "age": 40.0, "year": given})))
        rec.pop(ID)
        online = predictor.score(predictor.to_array([rec]))
        assert float(online.proba[0][1]) == float(preds["proba_1"].iloc[0])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_number_given_as_text_is_judged_alike(
    model: LoadedModel, fmt: str, tmp_path: Path
) -> None:
    """``"41.5"`` is the number 41.5 online as in a text column; ``"abc"`` is refused by
    both as ``age: not a number``."""
    record = record_model(model.schema, id_field=ID)
    assert record.model_validate({ID: 0, **GOOD, "age": "41.5"}).age == 41.5
    with pytest.raises(ValidationError) as exc:
        record.model_validate({ID: 1, **GOOD, "age": "abc"})
    assert [e["msg"] for e in exc.value.errors()] == ["age: not a number"]
    table = pd.DataFrame({ID: [0, 1], **{k: [v, v] for k, v in GOOD.items()}})
    table["age"] = ["41.5", "abc"]  # a text column
    path = tmp_path / f"input.{fmt}"
    table.to_csv(path, index=False) if fmt == "csv" else table.to_parquet(path)
    decisions, _, rejects, _ = _batch(model, AcceptanceConfig(), path, tmp_path / "o")
    assert decisions == {0: "accept", 1: "reject"}
    assert list(rejects["reason"]) == ["age: not a number"]
