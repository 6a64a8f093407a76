"""pr2prod's BentoML service: the one artifact behind a typed, validated HTTP API.

Run it with ``pr2prod serve`` or ``bentoml serve pr2prod.serving.service:Pr2ProdService``;
``pr2prod build`` packages it as a Bento. Endpoints (see docs/serving.md):

* ``POST /predict`` ``{"record": {...}}`` -> label + probabilities (or value) + model info
* ``POST /predict_batch`` ``{"records": [...]}`` -> one prediction per record + model info
* ``GET /healthz``, ``/livez``, ``/readyz``, ``/metrics`` (BentoML's, plus pr2prod metrics)

The request model is generated from the artifact's ``schema.json`` at import time, so a bad
request fails validation (400, naming the field) before any model code runs.
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import bentoml
from pydantic import Field

from pr2prod.data.schema import DataSchema
from pr2prod.serving import settings as settings_mod
from pr2prod.serving.middleware import GuardMiddleware
from pr2prod.serving.request import (
    BatchResponse,
    PredictResponse,
    example_record,
    record_model,
)

logger = logging.getLogger("pr2prod.serving")

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


SCHEMA = _load_schema()
EXAMPLE_INPUT: dict[str, Any] = example_record(SCHEMA)
ID_FIELD = CFG.id_field or SCHEMA.id_column
Record = record_model(
    SCHEMA, EXAMPLE_INPUT, CFG.limits.enforce_ranges, CFG.limits.max_abs_value, ID_FIELD
)
Records = Annotated[list[Record], Field(min_length=1, max_length=CFG.limits.max_batch_size)]  # type: ignore[valid-type]


@bentoml.service(
    name="pr2prod",
    workers=CFG.workers,
    traffic={"timeout": CFG.timeout_s},
    logging={"access": {"enabled": CFG.access_log}},
)
class Pr2ProdService:
    """Serve the production model; optionally shadow a candidate and log predictions."""

    model_ref = bentoml.models.BentoModel(SETTINGS.model_tag) if SETTINGS.model_tag else None

    def __init__(self) -> None:
        from pr2prod.serving.runtime import Runtime

        path = Path(self.model_ref.path) if self.model_ref is not None else _artifact_dir()
        version = SETTINGS.model_version or (
            self.model_ref.tag.version if self.model_ref is not None else None
        )
        self.rt = Runtime.start(path, version, CFG)
        logger.info("serving %s (scoring: %s)", self.rt.info, self.rt.predictor.parity)

    def __is_ready__(self) -> bool:
        return self.rt.predictor is not None

    @bentoml.api(route="/predict")
    async def predict(self, record: Record, ctx: bentoml.Context) -> PredictResponse:  # type: ignore[valid-type]
        """Score one record."""
        started = time.perf_counter()
        rec = dict(vars(record))
        ident = rec.pop(ID_FIELD, None)
        out = await self.rt.score_one(rec)
        rid = _request_id(ctx)
        self.rt.after([rec], [out], rid, "predict", started, ids=[ident])
        return PredictResponse(request_id=rid, id=ident, **out, **self.rt.info)

    @bentoml.api(route="/predict_batch")
    async def predict_batch(self, records: Records, ctx: bentoml.Context) -> BatchResponse:
        """Score many records in one model call (at most ``limits.max_batch_size``)."""
        started = time.perf_counter()
        recs = [dict(vars(r)) for r in records]
        ids = [r.pop(ID_FIELD, None) for r in recs]
        outs = self.rt.score_many(recs)
        rid = _request_id(ctx)
        self.rt.after(recs, outs, rid, "predict_batch", started, ids=ids)
        preds = [o if i is None else {**o, "id": i} for o, i in zip(outs, ids, strict=True)]
        return BatchResponse.model_validate(
            {"request_id": rid, "predictions": preds, **self.rt.info}
        )

    @bentoml.on_shutdown
    def close(self) -> None:
        self.rt.close()


def _request_id(ctx: bentoml.Context) -> str:
    given = ctx.request.headers.get("x-request-id")
    return given[:64] if given else uuid.uuid4().hex


# The decorator returned a bentoml.Service (mypy sees the class).
Pr2ProdService.add_asgi_middleware(  # type: ignore[attr-defined]
    GuardMiddleware, max_body_bytes=CFG.limits.max_body_bytes
)
