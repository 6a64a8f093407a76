"""Pydantic request/response models generated from the artifact's ``schema.json``.

Every feature becomes a required field whose type is the acceptance rule
(:mod:`pr2prod.data.acceptance`, the ``acceptance`` config group, shared with batch
scoring): numeric features are finite numbers of bounded magnitude (never NaN or
infinity), categorical features one of the training categories (``Literal``) unless
unknown categories are flagged, ``null`` only where the rule accepts it. A value the rule
refuses fails with the rule's own words (``city: unknown category``, the reason batch scoring
gives, :mod:`pr2prod.data.acceptance`); a number names a category as its text (``2007``),
and a numeric feature's value may come as text (``"41.5"``), parsed as batch parses a CSV.
Unknown fields are refused, in a record and at the top level of a body. A bad request
therefore fails validation in BentoML, which answers 400 with the field's path, before the
model runs.
Responses carry only the fields of the model's task (no ``value`` on a classifier, no
``null``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    create_model,
    model_serializer,
)
from pydantic_core import PydanticCustomError

from pr2prod.config.acceptance_schema import AcceptanceConfig, Decision
from pr2prod.data.acceptance import (
    FeatureLimit,
    category_text,
    feature_limit,
    infinite,
    missing_value,
    not_a_number,
    out_of_range,
    parse_number,
    too_large,
    unknown_category,
)
from pr2prod.data.schema import DataSchema, FeatureSpec
from pr2prod.logrecord.variant import VARIANT_HEADER, Variant

Label = StrictInt | str | bool


def _missing(lim: FeatureLimit) -> None:
    """``None``: accepted when the rule accepts nulls, else refused in batch's words."""
    if not lim.nullable:
        raise PydanticCustomError("missing_value", missing_value(lim.name))


def _numeric(lim: FeatureLimit, max_abs: float, reject_range: bool) -> Any:
    """A finite number; magnitude and training range judged in the rule's words first (the
    bounds stay on the type for the OpenAPI document)."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value is None:
            return _missing(lim)
        if isinstance(value, str):  # text, as a CSV cell is: parsed the way batch parses it
            parsed = parse_number(value)
            if parsed is None:
                raise PydanticCustomError("not_a_number", not_a_number(lim.name))
            value = parsed
        if isinstance(value, int | float) and not isinstance(value, bool):
            v = float(value)
            if math.isinf(v):
                raise PydanticCustomError("infinite", infinite(lim.name))
            if abs(v) > max_abs:
                raise PydanticCustomError("too_large", too_large(lim.name, max_abs))
            if reject_range and not lim.train_lo <= v <= lim.train_hi:
                reason = out_of_range(lim.name, lim.train_lo, lim.train_hi)
                raise PydanticCustomError("out_of_range", reason)
        return handler(value)

    bounds: dict[str, float] = {}
    if math.isfinite(lim.lo):
        bounds["ge"] = lim.lo
    if math.isfinite(lim.hi):
        bounds["le"] = lim.hi
    base = Annotated[float, Field(strict=True, allow_inf_nan=False, **bounds)]  # type: ignore[call-overload]
    return Annotated[base | None if lim.nullable else base, WrapValidator(check)]


def _categorical(lim: FeatureLimit) -> Any:
    """A category: text, or a number naming one (``2007`` is the category ``"2007"``, as in
    batch: :func:`category_text`); unknown and missing ones refused in the rule's words."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value is None:
            return _missing(lim)
        text = category_text(value) if isinstance(value, str | int | float) else None
        if text is None:
            return handler(value)  # not a category at all: the type's own error
        if lim.categories is not None and text not in lim.categories:
            raise PydanticCustomError("unknown_category", unknown_category(lim.name))
        return handler(text)

    base = Literal[lim.categories] if lim.categories else str  # type: ignore[valid-type]
    return Annotated[base | None if lim.nullable else base, WrapValidator(check)]


def field_type(f: FeatureSpec, acceptance: AcceptanceConfig | None = None) -> Any:
    """The pydantic type of one feature: the acceptance rule's limits as a type."""
    cfg = acceptance if acceptance is not None else AcceptanceConfig()
    lim = feature_limit(f, cfg)
    if f.kind == "categorical":
        return _categorical(lim)
    return _numeric(lim, float(cfg.max_abs_value), cfg.out_of_range == Decision.reject)


def _description(f: FeatureSpec) -> str:
    if f.kind == "categorical":
        return f"categorical; one of {f.categories}" + ("; may be null" if f.nullable else "")
    rng = f"training range [{f.min}, {f.max}]"
    return f"numeric ({f.dtype}); {rng}" + ("; may be null" if f.nullable else "")


def _one_id_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """One error at the id field itself (not one per union member, ``row_id.int`` ...)."""
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "id_type", "an id is an integer or a string of 1 to 128 characters"
        ) from None


RecordId = Annotated[
    StrictInt | Annotated[str, Field(min_length=1, max_length=128)], WrapValidator(_one_id_error)
]


def record_model(
    schema: DataSchema,
    example: dict[str, Any] | None = None,
    acceptance: AcceptanceConfig | None = None,
    id_field: str | None = None,
) -> type[BaseModel]:
    """The ``Record`` model: one field per feature, in schema order, plus ``id_field``.

    Each field's type is the acceptance rule (:mod:`pr2prod.data.acceptance`) under
    ``acceptance`` (the config's ``acceptance`` group; ``None`` = its defaults): what it
    rejects fails validation, what it flags is accepted.
    ``id_field`` (optional in a request: an integer or a string of at most 128 characters)
    carries the caller's id of the record; it is echoed and logged, never scored.

    Raises:
        ValueError: ``id_field`` is a feature's name, naming ``serve.id_field``.
    """
    fields: dict[str, Any] = {
        f.name: (field_type(f, acceptance), Field(..., description=_description(f)))
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


def _omitted_not_null(schema: dict[str, Any]) -> None:
    """Optional fields are omitted, never ``null``: say so in the JSON schema."""
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        if name in required or "anyOf" not in prop:
            continue
        kept = [s for s in prop["anyOf"] if s != {"type": "null"}]
        prop.pop("default", None)
        if len(kept) == 1:
            del prop["anyOf"]
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept


class _Response(BaseModel):
    """A response model whose unset optional fields are left out of the JSON."""

    model_config = ConfigDict(json_schema_extra=_omitted_not_null)

    # No return annotation: pydantic then documents the fields, not a bare ``dict``.
    @model_serializer(mode="wrap")
    def _omit_none(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]  # noqa: ANN202
        return {k: v for k, v in handler(self).items() if v is not None}


MODEL_FIELDS: dict[str, Any] = {
    "request_id": (str, Field(description="x-request-id of the request, or a generated id")),
    "model_name": (str, ...),
    "model_version": (str, ...),
    "artifact_hash": (str, Field(description="identity of the served artifact (its dvc.lock md5)")),
}


def prediction_model(schema: DataSchema) -> type[BaseModel]:
    """One record's prediction, with only the fields the task has.

    Classification: ``label`` (one of the training labels) and ``probabilities`` (per label;
    omitted when the model has no ``predict_proba``). Regression: ``value``.
    """
    fields: dict[str, Any]
    if schema.task == "regression":
        fields = {"value": (float, Field(description="predicted value"))}
    else:
        labels = tuple(schema.labels or ())
        label_type: Any = Literal[labels] if labels else Label  # type: ignore[valid-type]
        fields = {
            "label": (label_type, Field(description="predicted label")),
            "probabilities": (
                dict[str, float] | None,
                Field(None, description="probability per label; omitted without predict_proba"),
            ),
        }
    fields["id"] = (
        RecordId | None,
        Field(None, description="the request's id field (serve.id_field), when it carried one"),
    )
    fields["variant"] = (
        Literal[tuple(v.value for v in Variant)],  # type: ignore[valid-type]
        Field(
            description="the deployment that answered, prod or canary (serve.canary); "
            f"/predict also sends it in the {VARIANT_HEADER} header"
        ),
    )
    return create_model("Prediction", __base__=_Response, **fields)


def response_models(schema: DataSchema) -> tuple[type[BaseModel], type[BaseModel]]:
    """``(PredictResponse, BatchResponse)``: the prediction(s) plus the model that answered.

    ``/predict`` names the model of the variant that answered. ``/predict_batch`` names
    production's and, when the canary answered any record, the canary's in ``canary_model``.
    """
    prediction = prediction_model(schema)
    canary_model = create_model(
        "CanaryModel",
        __doc__="The canary's model (serve.canary).",
        **{k: v for k, v in MODEL_FIELDS.items() if k != "request_id"},
    )
    predict = create_model(
        "PredictResponse",
        __base__=prediction,
        __doc__="``/predict`` answer: the prediction plus the model that made it.",
        **MODEL_FIELDS,
    )
    batch = create_model(
        "BatchResponse",
        __base__=_Response,
        __doc__="``/predict_batch`` answer: predictions in request order plus the model.",
        **MODEL_FIELDS,
        predictions=(list[prediction], ...),  # type: ignore[valid-type]
        canary_model=(
            canary_model | None,
            Field(None, description="the canary's model, when it answered any record"),
        ),
    )
    return predict, batch


def request_models(
    record: type[BaseModel], max_batch_size: int
) -> tuple[type[BaseModel], type[BaseModel]]:
    """``(PredictRequest, BatchRequest)``: the bodies, refusing unknown top-level keys."""
    forbid = ConfigDict(extra="forbid")
    one = create_model(
        "PredictRequest",
        __config__=forbid,
        __doc__="``/predict`` body: one record.",
        record=(record, Field(description="one record: every feature, by name")),
    )
    many = create_model(
        "BatchRequest",
        __config__=forbid,
        __doc__="``/predict_batch`` body: up to ``limits.max_batch_size`` records.",
        records=(
            list[record],  # type: ignore[valid-type]
            Field(min_length=1, max_length=max_batch_size, description="records to score"),
        ),
    )
    return one, many


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
