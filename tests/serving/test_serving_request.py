"""The request model generated from a schema refuses every bad-input kind, naming the field."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from pr2prod.config.acceptance_schema import AcceptanceConfig, Decision
from pr2prod.config.serve_schema import ServeConfig
from pr2prod.data.schema import DataSchema, FeatureSpec
from pr2prod.serving.request import example_record, record_model
from pr2prod.serving.settings import resolve, serve_config_from_dict


def _schema() -> DataSchema:
    return DataSchema(
        task="binary",
        target="y",
        id_column="row_id",
        labels=[0, 1],
        n_rows={"train": 10},
        features=[
            FeatureSpec(
                "age",
                "numeric",
                "float64",
                nullable=False,
                min=18.0,
                max=90.0,
                stats={"quantiles": {"0.5": 40.0}},
            ),
            FeatureSpec("income", "numeric", "float64", nullable=True, min=0.0, max=1e5),
            FeatureSpec(
                "city",
                "categorical",
                "string",
                nullable=False,
                categories=["lyon", "paris"],
                stats={"frequencies": {"lyon": 0.3, "paris": 0.7}},
            ),
        ],
    )


GOOD = {"age": 40.0, "income": None, "city": "paris"}


def _locs(exc: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in exc.errors()}


def test_example_record_is_valid_and_typical() -> None:
    schema = _schema()
    example = example_record(schema)
    assert example == {"age": 40.0, "income": 0.0, "city": "paris"}
    record_model(schema).model_validate(example)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"age": "forty"}, "age"),  # wrong type
        ({"city": "berlin"}, "city"),  # unknown category
        ({"city": None}, "city"),  # null where the training data had none
        ({"age": None}, "age"),
        ({"age": float("nan")}, "age"),  # NaN
        ({"age": float("inf")}, "age"),
        ({"age": 1e300}, "age"),  # overflows the model's arithmetic
        ({"zip": "69000"}, "zip"),  # unknown field
    ],
)
def test_bad_values_name_the_field(change: dict, field: str) -> None:
    model = record_model(_schema())
    with pytest.raises(ValidationError) as info:
        model.model_validate({**GOOD, **change})
    assert field in _locs(info.value)


def test_missing_field_is_named() -> None:
    with pytest.raises(ValidationError) as info:
        record_model(_schema()).model_validate({"age": 40.0, "city": "paris"})
    assert "income" in _locs(info.value)


def test_nan_in_json_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        record_model(_schema()).model_validate_json('{"age": NaN, "income": 1, "city": "lyon"}')
    assert "age" in _locs(info.value)


def test_nullable_accepts_null_and_ints_are_numbers() -> None:
    rec = record_model(_schema()).model_validate({"age": 40, "income": None, "city": "lyon"})
    assert rec.age == 40
    assert rec.income is None
    # a number as text is read as batch reads a CSV cell (one acceptance rule, issue 20 §6)
    assert record_model(_schema()).model_validate({**GOOD, "age": "40"}).age == 40.0


def test_ranges_are_enforced_only_on_request() -> None:
    loose = record_model(_schema())
    strict = record_model(_schema(), acceptance=AcceptanceConfig(out_of_range=Decision.reject))
    loose.model_validate({**GOOD, "age": 120.0})
    with pytest.raises(ValidationError) as info:
        strict.model_validate({**GOOD, "age": 120.0})
    assert "age" in _locs(info.value)


def test_json_schema_lists_categories() -> None:
    schema = record_model(_schema()).model_json_schema()
    assert schema["properties"]["city"]["enum"] == ["lyon", "paris"]
    assert schema["additionalProperties"] is False


def test_settings_carry_the_acceptance_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PR2PROD_ACCEPTANCE_CONFIG", raising=False)
    given = json.dumps({"unknown_category": "flag", "max_abs_value": 5.0})
    s = resolve({"serve_config": "{}", "acceptance_config": given})
    assert s.acceptance == AcceptanceConfig(unknown_category=Decision.flag, max_abs_value=5.0)
    assert resolve({"serve_config": "{}"}).acceptance == AcceptanceConfig()
    with pytest.raises(Exception, match="sometimes"):
        resolve({"serve_config": "{}", "acceptance_config": '{"out_of_range": "sometimes"}'})


def test_serve_config_rejects_unknown_keys() -> None:
    with pytest.raises(Exception, match="colour"):
        serve_config_from_dict({"colour": "red"})


def test_settings_env_overrides_bento_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    baked = json.dumps({"port": 4000})
    monkeypatch.setenv("PR2PROD_SERVE_CONFIG", json.dumps({"port": 5000}))
    monkeypatch.delenv("PR2PROD_MODEL_DIR", raising=False)
    s = resolve({"serve_config": baked, "model_dir": "/m"})
    assert s.serve.port == 5000
    assert s.model_dir == "/m"
    assert isinstance(s.serve, ServeConfig)
