"""Pydantic request/response models generated from the artifact's ``schema.json``.

Every feature becomes a required field: numeric features are finite numbers of bounded
magnitude (never NaN or infinity; ``null`` only where the training data had nulls),
categorical features are one of the training categories (``Literal``). Unknown fields are
refused. A bad request therefore fails validation in BentoML, which answers 400 with the
field's path, before the model runs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, create_model

from pr2prod.data.schema import DataSchema, FeatureSpec

Label = StrictInt | str | bool


def _numeric(f: FeatureSpec, enforce_ranges: bool, max_abs: float) -> Any:
    bounds: dict[str, float] = {"ge": -max_abs, "le": max_abs}
    if enforce_ranges and f.min is not None:
        bounds["ge"] = f.min
    if enforce_ranges and f.max is not None:
        bounds["le"] = f.max
    base = Annotated[float, Field(strict=True, allow_inf_nan=False, **bounds)]  # type: ignore[call-overload]
    return base | None if f.nullable else base


def _categorical(f: FeatureSpec) -> Any:
    cats = tuple(f.categories or ())
    base = Literal[cats] if cats else str  # type: ignore[valid-type]
    return base | None if f.nullable else base


def field_type(f: FeatureSpec, enforce_ranges: bool = False, max_abs: float = 1e12) -> Any:
    """The pydantic type of one feature."""
    return _categorical(f) if f.kind == "categorical" else _numeric(f, enforce_ranges, max_abs)


def _description(f: FeatureSpec) -> str:
    if f.kind == "categorical":
        return f"categorical; one of {f.categories}" + ("; may be null" if f.nullable else "")
    rng = f"training range [{f.min}, {f.max}]"
    return f"numeric ({f.dtype}); {rng}" + ("; may be null" if f.nullable else "")


RecordId = StrictInt | Annotated[str, Field(min_length=1, max_length=128)]


def record_model(
    schema: DataSchema,
    example: dict[str, Any] | None = None,
    enforce_ranges: bool = False,
    max_abs: float = 1e12,
    id_field: str | None = None,
) -> type[BaseModel]:
    """The ``Record`` model: one field per feature, in schema order, plus ``id_field``.

    ``max_abs`` bounds every numeric input (values near float64's limit overflow the
    model's arithmetic); ``enforce_ranges`` narrows it to the training [min, max].
    ``id_field`` (optional in a request: an integer or a string of at most 128 characters)
    carries the caller's id of the record; it is echoed and logged, never scored.

    Raises:
        ValueError: ``id_field`` is a feature's name, naming ``serve.id_field``.
    """
    fields: dict[str, Any] = {
        f.name: (field_type(f, enforce_ranges, max_abs), Field(..., description=_description(f)))
        for f in schema.features
    }
    if id_field is not None:
        if id_field in fields:
            raise ValueError(
                f"serve.id_field: {id_field!r} is a feature of the model; choose a column "
                f"that is not one of {', '.join(fields)} (null = the data's id column)"
            )
        fields[id_field] = (
            RecordId | None,
            Field(
                None,
                description="Optional id of this record (serve.id_field), echoed in the "
                "response as `id` and logged; labels that arrive later join on it.",
            ),
        )
    config = ConfigDict(extra="forbid", json_schema_extra={"example": example} if example else None)
    return create_model("Record", __config__=config, **fields)


class Prediction(BaseModel):
    """One record's prediction: ``label`` + ``probabilities`` (classification) or ``value``."""

    label: Label | None = None
    probabilities: dict[str, float] | None = None
    value: float | None = None
    id: StrictInt | str | None = Field(
        None, description="The request's id field (serve.id_field), when it carried one."
    )


class PredictResponse(Prediction):
    """``/predict`` answer: the prediction plus the model that made it."""

    request_id: str
    model_name: str
    model_version: str
    artifact_hash: str


class BatchResponse(BaseModel):
    """``/predict_batch`` answer: predictions in request order plus the model."""

    request_id: str
    model_name: str
    model_version: str
    artifact_hash: str
    predictions: list[Prediction]


def example_record(schema: DataSchema) -> dict[str, Any]:
    """A valid record: training medians for numeric, most frequent category otherwise."""
    out: dict[str, Any] = {}
    for f in schema.features:
        if f.kind == "categorical":
            freq = f.stats.get("frequencies") or {}
            out[f.name] = max(freq, key=lambda k: freq[k]) if freq else (f.categories or ["a"])[0]
        else:
            q = (f.stats.get("quantiles") or {}).get("0.5")
            out[f.name] = float(q) if q is not None else float(f.min or 0.0)
    return out
