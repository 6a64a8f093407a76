"""The request's id field (``serve.id_field``): optional, an int or a short string, never a
feature; configured and validated like every serve key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pr2prod.data.schema import DataSchema, FeatureSpec
from pr2prod.serving.request import record_model, response_models
from pr2prod.serving.settings import serve_config_from_dict


def _schema() -> DataSchema:
    return DataSchema(
        task="binary",
        target="y",
        id_column="customer_id",
        labels=[0, 1],
        n_rows={"train": 10},
        features=[FeatureSpec("age", "numeric", "float64", nullable=False, min=18.0, max=90.0)],
    )


@pytest.mark.parametrize("ident", [17, "cust-17"])
def test_the_id_is_optional_and_kept_apart_from_the_features(ident: object) -> None:
    record = record_model(_schema(), id_field="customer_id")
    assert record.model_validate({"age": 40.0}).customer_id is None
    assert record.model_validate({"age": 40.0, "customer_id": ident}).customer_id == ident


@pytest.mark.parametrize("bad", [1.5, True, "", "x" * 129, ["a"], {"a": 1}])
def test_an_id_of_another_kind_is_refused_naming_the_field(bad: object) -> None:
    record = record_model(_schema(), id_field="customer_id")
    with pytest.raises(ValidationError) as err:
        record.model_validate({"age": 40.0, "customer_id": bad})
    assert all(e["loc"][0] == "customer_id" for e in err.value.errors())


def test_without_an_id_field_the_id_is_an_unknown_field() -> None:
    with pytest.raises(ValidationError, match="customer_id"):
        record_model(_schema()).model_validate({"age": 40.0, "customer_id": 1})


def test_an_id_field_that_is_a_feature_is_refused() -> None:
    with pytest.raises(ValueError, match=r"serve\.id_field: 'age' is a feature"):
        record_model(_schema(), id_field="age")


def test_answers_echo_the_id() -> None:
    info = {"model_name": "m", "model_version": "v", "artifact_hash": "h"}
    PredictResponse, BatchResponse = response_models(_schema())
    one = PredictResponse(request_id="r", id="cust-1", label=1, variant="prod", **info)
    assert one.model_dump()["id"] == "cust-1"
    preds = [{"label": 1, "id": 7, "variant": "canary"}, {"label": 0, "variant": "prod"}]
    many = BatchResponse.model_validate({"request_id": "r", "predictions": preds, **info})
    assert [p.id for p in many.predictions] == [7, None]
    assert "id" not in many.model_dump()["predictions"][1]  # omitted, not null


def test_serve_config_takes_id_field_and_retention() -> None:
    cfg = serve_config_from_dict(
        {"id_field": "customer_id", "prediction_log": {"retention": {"max_files": 20}}}
    )
    assert cfg.id_field == "customer_id"
    assert cfg.prediction_log.retention.max_files == 20
    assert cfg.prediction_log.retention.max_age_days is None
    with pytest.raises(Exception, match="backups"):
        serve_config_from_dict({"prediction_log": {"backups": 5}})
