"""pr2prod's BentoML service: the one artifact behind a typed, validated HTTP API.

Run it with ``pr2prod serve`` or ``bentoml serve pr2prod.serving.service:Pr2ProdService``;
``pr2prod build`` packages it as a Bento. Endpoints (see docs/serving.md):

* ``POST /predict`` ``{"record": {...}}`` -> label + probabilities (or value) + model info
* ``POST /predict_batch`` ``{"records": [...]}`` -> one prediction per record + model info
* ``GET /healthz``, ``/livez``, ``/readyz``, ``/metrics`` (BentoML's, plus pr2prod metrics)

The request model is generated from the artifact's ``schema.json`` at import time, so a bad
request fails validation (400, naming the field) before any model code runs. The first
process to import this module (``bentoml serve``'s own, before any worker) loads the whole
artifact once and exits with one message if it cannot (:mod:`.preflight`). Scoring runs off
the event loop: ``/predict_batch`` is a sync API (BentoML's thread pool), ``/predict``
scores in a worker thread (:class:`.runtime.Runtime`). A request is answered only once its
records are in the prediction log; when the log refuses them (more than
``prediction_log.max_pending_bytes`` waiting, or a failed write) the answer is 503 with
``Retry-After`` (:mod:`.predlog`).
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

import bentoml
from pydantic import BaseModel, ValidationError
from starlette.responses import JSONResponse, Response

from pr2prod.data.schema import DataSchema
from pr2prod.logrecord.variant import VARIANT_HEADER, Variant
from pr2prod.serving import errorlog, preflight
from pr2prod.serving import settings as settings_mod
from pr2prod.serving.middleware import GuardMiddleware
from pr2prod.serving.openapi import openapi_document
from pr2prod.serving.predlog import RETRY_AFTER_S, LogOverloadedError, LogUnavailableError
from pr2prod.serving.request import (
    example_record,
    record_model,
    request_models,
    response_models,
)
from pr2prod.serving.routing import ScoringError

logger = logging.getLogger("pr2prod.serving")
logger.setLevel(logging.INFO)  # BentoML's root level is WARNING: keep pr2prod's INFO lines
errorlog.install()

SETTINGS = settings_mod.resolve(vars(bentoml.use_arguments()))
CFG = SETTINGS.serve


def _artifact_dir() -> Path:
    if SETTINGS.model_tag:
        return Path(bentoml.models.get(SETTINGS.model_tag).path)
    return Path(SETTINGS.model_dir)


def _load_schema() -> DataSchema:
    path = _artifact_dir() / "schema.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no model artifact to serve (run `dvc repro train` "
            "or `dvc pull`, or pass --model DIR)"
        )
    return DataSchema.load(path)


def _in_worker() -> bool:
    from bentoml import server_context

    return server_context.worker_index is not None


if not _in_worker():
    preflight.check_artifact(_artifact_dir(), SETTINGS.trusted_packages)
    if CFG.canary.enabled and CFG.canary.model_path:
        preflight.check_canary(
            _artifact_dir(), Path(CFG.canary.model_path), SETTINGS.trusted_packages
        )
SCHEMA = _load_schema()
EXAMPLE_INPUT: dict[str, Any] = example_record(SCHEMA)
ID_FIELD = CFG.id_field or SCHEMA.id_column
Record = record_model(SCHEMA, EXAMPLE_INPUT, SETTINGS.acceptance, ID_FIELD)
PredictRequest, BatchRequest = request_models(Record, CFG.limits.max_batch_size)
PredictResponse, BatchResponse = response_models(SCHEMA)


@bentoml.service(
    name="pr2prod",
    workers=CFG.workers,
    traffic={"timeout": CFG.timeout_s},
    logging={"access": {"enabled": CFG.access_log}},
)
class Pr2ProdService:
    """Serve the production model; optionally shadow or canary a candidate; log predictions."""

    model_ref = bentoml.models.BentoModel(SETTINGS.model_tag) if SETTINGS.model_tag else None

    def __init__(self) -> None:
        from pr2prod.serving.runtime import Runtime

        path = Path(self.model_ref.path) if self.model_ref is not None else _artifact_dir()
        version = SETTINGS.model_version or (
            self.model_ref.tag.version if self.model_ref is not None else None
        )
        self.rt = Runtime.start(path, version, CFG, SETTINGS.trusted_packages)
        logger.info("serving %s (scoring: %s)", self.rt.info, self.rt.predictor.parity)

    def __is_ready__(self) -> bool:
        return self.rt.predictor is not None

    @bentoml.api(route="/predict", input_spec=PredictRequest, output_spec=PredictResponse)
    async def predict(self, record: Record, ctx: bentoml.Context) -> Any:  # type: ignore[valid-type]
        """Score one record."""
        started = time.perf_counter()
        rec = dict(vars(record))
        ident = rec.pop(ID_FIELD, None)
        variant = self.rt.route([ident])[0]
        try:
            out = await self.rt.score_one(rec, variant)
        except ScoringError:
            self.rt.failed(variant, started)
            raise
        rid = _request_id(ctx)
        try:
            await self.rt.after_async(
                [rec], [out], rid, "predict", started, ids=[ident], variants=[variant]
            )
        except LogUnavailableError as exc:
            return _log_unavailable(exc)
        ctx.response.headers[VARIANT_HEADER] = variant.value
        info = self.rt.infos[variant]
        body = {"request_id": rid, "id": ident, "variant": variant, **out, **info}
        return _answer(PredictResponse, body)

    @bentoml.api(route="/predict_batch", input_spec=BatchRequest, output_spec=BatchResponse)
    def predict_batch(self, records: list[Record], ctx: bentoml.Context) -> Any:  # type: ignore[valid-type]
        """Score many records in one model call (at most ``limits.max_batch_size``)."""
        started = time.perf_counter()
        recs = [dict(vars(r)) for r in records]
        ids = [r.pop(ID_FIELD, None) for r in recs]
        variants = self.rt.route(ids)
        try:
            outs = self.rt.score_many(recs, variants)
        except ScoringError as exc:
            self.rt.failed(exc.variant, started)
            raise
        rid = _request_id(ctx)
        try:
            self.rt.after(recs, outs, rid, "predict_batch", started, ids=ids, variants=variants)
        except LogUnavailableError as exc:
            return _log_unavailable(exc)
        preds = [
            {**o, "variant": v} if i is None else {**o, "id": i, "variant": v}
            for o, i, v in zip(outs, ids, variants, strict=True)
        ]
        body: dict[str, Any] = {"request_id": rid, "predictions": preds, **self.rt.info}
        if Variant.canary in variants:
            body["canary_model"] = self.rt.infos[Variant.canary]
        return _answer(BatchResponse, body)

    @bentoml.on_shutdown
    def close(self) -> None:
        self.rt.close()


def _request_id(ctx: bentoml.Context) -> str:
    """The id the middleware put on the request (a client's well-formed one, or a new one)."""
    given = ctx.request.headers.get("x-request-id")
    return given[:64] if given else uuid.uuid4().hex


def _log_unavailable(exc: LogUnavailableError) -> Response:
    """503 + ``Retry-After``: the prediction log did not take the records, so no answer."""
    reason = "is behind" if isinstance(exc, LogOverloadedError) else "cannot be written"
    return JSONResponse(
        {
            "error": f"the prediction log {reason}; retry after {RETRY_AFTER_S} s",
            "detail": [{"loc": ["prediction_log"], "msg": reason, "type": "log_unavailable"}],
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def _answer(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """The response; an output that fails its own model is a server error (500), not a 400."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RuntimeError(f"response does not match {model.__name__}") from exc


def _openapi() -> dict[str, Any]:
    return openapi_document(
        Pr2ProdService.openapi_spec.asdict(),  # type: ignore[attr-defined]
        {
            "/predict": (PredictRequest, PredictResponse),
            "/predict_batch": (BatchRequest, BatchResponse),
        },
        CFG.limits.max_body_bytes,
    )


# The decorator returned a bentoml.Service (mypy sees the class).
Pr2ProdService.add_asgi_middleware(  # type: ignore[attr-defined]
    GuardMiddleware,
    max_body_bytes=CFG.limits.max_body_bytes,
    field_names=[*SCHEMA.feature_names, *([ID_FIELD] if ID_FIELD else [])],
    openapi=_openapi,
)
