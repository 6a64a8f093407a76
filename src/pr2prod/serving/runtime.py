"""The service's state and per-request work, kept out of the service file.

:class:`Runtime` owns the production :class:`Predictor`, the optional shadow or canary
predictor (with its :class:`~.routing.Router`), the :class:`Recorder` (prediction log +
shadow scoring off the response path) and, when ``batching.enabled``, BentoML's
adaptive-batching dispatcher (``CorkDispatcher``, the engine behind
``@bentoml.api(batchable=True)``) that merges concurrent ``/predict`` calls into one model
call. Model calls from ``/predict`` run in a worker thread (one at a time), never on the
event loop, so a long batch does not stall other requests or the health endpoints.

Each record is scored by the model of its variant (:meth:`Runtime.score_routed`): a merged
or ``/predict_batch`` batch is split by variant, each part scored by its model and the answers
put back in order. A part whose model fails fails only the records of that part.

A request's records are written to the prediction log before it is answered
(:meth:`Runtime.after` / :meth:`Runtime.after_async`); when the log refuses them the service
answers 503 with ``Retry-After`` (:mod:`.predlog`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pr2prod.config.serve_schema import ServeConfig
from pr2prod.errors import DataError
from pr2prod.logrecord.variant import OUTCOME_ERROR, OUTCOME_OK, Variant
from pr2prod.serving import metrics
from pr2prod.serving.predictor import Predictor
from pr2prod.serving.predlog import PredictionLog, Removal, Retention
from pr2prod.serving.preflight import CANARY_KEY, incompatibility
from pr2prod.serving.recorder import Job, Outcome, Recorder
from pr2prod.serving.routing import Router, ScoringError

logger = logging.getLogger("pr2prod.serving")

Routed = tuple[dict[str, Any], Variant]


class Runtime:
    """Production predictor, shadow or canary, recorder and batching for one worker process."""

    def __init__(
        self,
        predictor: Predictor,
        shadow: Predictor | None,
        recorder: Recorder,
        cfg: ServeConfig,
        canary: Predictor | None = None,
    ) -> None:
        self.predictor = predictor
        self.shadow = shadow
        self.canary = canary
        self.recorder = recorder
        self.models: dict[Variant, Predictor] = {Variant.prod: predictor}
        if canary is not None:
            self.models[Variant.canary] = canary
        self.infos: dict[Variant, dict[str, str]] = {
            v: p.info.as_dict() for v, p in self.models.items()
        }
        self.info: dict[str, Any] = self.infos[Variant.prod]
        self.router = Router(cfg.canary.share) if canary is not None else None
        self._batched = _dispatcher(self._score_async, cfg) if cfg.batching.enabled else None
        self._limiter: Any = None

    @classmethod
    def start(
        cls,
        model_dir: str | Path,
        version: str | None,
        cfg: ServeConfig,
        trusted_packages: Sequence[str] = (),
    ) -> Runtime:
        predictor = Predictor.from_dir(
            model_dir, version=version, fast_path=cfg.fast_path, trusted_packages=trusted_packages
        )
        shadow = load_shadow(cfg, trusted_packages)
        canary = load_canary(cfg, predictor, trusted_packages)
        log = None
        if cfg.prediction_log.enabled:
            log = PredictionLog(
                _log_path(cfg.prediction_log.path, cfg.workers),
                cfg.prediction_log.max_bytes,
                Retention(**vars(cfg.prediction_log.retention)),
                on_remove=_count_removal,
                max_pending_bytes=cfg.prediction_log.max_pending_bytes,
            )
        recorder = Recorder(
            log, shadow, cfg.shadow.timeout_s, cfg.shadow.queue_size, on_outcome=_count_outcome
        )
        return cls(predictor, shadow, recorder, cfg, canary)

    def route(self, ids: Sequence[Any]) -> list[Variant]:
        """The variant of each record (all production without a canary)."""
        if self.router is None:
            return [Variant.prod] * len(ids)
        return self.router.route(ids)

    async def score_one(
        self, record: dict[str, Any], variant: Variant = Variant.prod
    ) -> dict[str, Any]:
        """One record's answer from ``variant``'s model (merged with others when batching).

        Raises:
            ScoringError: that model failed on it.
        """
        item = (record, variant)
        if self._batched is not None:
            result = await self._batched(item)
        else:
            result = (await self._score_async([item]))[0]
        if isinstance(result, ScoringError):
            raise result
        return result  # type: ignore[no-any-return]

    def score_many(
        self, records: Sequence[dict[str, Any]], variants: Sequence[Variant] | None = None
    ) -> list[dict[str, Any]]:
        """Each record's answer from its variant's model (default: production), in order.

        Raises:
            ScoringError: the first variant whose model failed.
        """
        chosen = variants if variants is not None else [Variant.prod] * len(records)
        results = self.score_routed(list(zip(records, chosen, strict=True)))
        for result in results:
            if isinstance(result, ScoringError):
                raise result
        return results  # type: ignore[return-value]

    def score_routed(self, items: Sequence[Routed]) -> list[dict[str, Any] | ScoringError]:
        """Score each variant's records with its model in one call; answers in item order.

        A model that fails gives a :class:`ScoringError` for each of its records only.
        """
        out: list[dict[str, Any] | ScoringError] = [{} for _ in items]
        for variant, predictor in self.models.items():
            idx = [i for i, (_, v) in enumerate(items) if v == variant]
            if not idx:
                continue
            try:
                scores = predictor.score(predictor.to_array([items[i][0] for i in idx]))
                answers = [scores.output(k) for k in range(len(idx))]
            except Exception as exc:  # this variant's records fail, the others are answered
                logger.exception("the %s model failed to score %d record(s)", variant, len(idx))
                for i in idx:
                    err = ScoringError(variant)
                    err.__cause__ = exc
                    out[i] = err
                continue
            for i, answer in zip(idx, answers, strict=True):
                out[i] = answer
        return out

    async def _score_async(self, items: Sequence[Routed]) -> list[dict[str, Any] | ScoringError]:
        """:meth:`score_routed` in a worker thread (one model call at a time per process)."""
        import anyio

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(self.score_routed, items, limiter=self._limiter)

    def failed(self, variant: Variant, started: float) -> None:
        """Count a request ``variant``'s model failed to answer."""
        metrics.VARIANT_REQUESTS.labels(variant=variant.value, outcome=OUTCOME_ERROR).inc()
        metrics.VARIANT_LATENCY.labels(variant=variant.value).observe(time.perf_counter() - started)

    def after(
        self,
        records: list[dict[str, Any]],
        outputs: list[dict[str, Any]],
        request_id: str,
        endpoint: str,
        started: float,
        ids: list[Any] | None = None,
        variants: list[Variant] | None = None,
    ) -> None:
        """Write the request's records to the prediction log (shadow: queue them), then
        count it in the metrics. Returns once the records are written.

        ``variants``: who answered each record (default: production); each variant that
        answered counts the request once, with its latency.

        Raises:
            LogUnavailableError: the log refused the records; the request must not be
                answered as a success (nothing is counted).
        """
        job = self._job(records, outputs, request_id, endpoint, started, ids, variants)
        if self.recorder.active:
            self.recorder.submit(job)
        self._count(job)

    async def after_async(
        self,
        records: list[dict[str, Any]],
        outputs: list[dict[str, Any]],
        request_id: str,
        endpoint: str,
        started: float,
        ids: list[Any] | None = None,
        variants: list[Variant] | None = None,
    ) -> None:
        """:meth:`after` on the event loop: waits for the log write without blocking it."""
        job = self._job(records, outputs, request_id, endpoint, started, ids, variants)
        if self.recorder.active:
            await self.recorder.submit_async(job)
        self._count(job)

    def _job(
        self,
        records: list[dict[str, Any]],
        outputs: list[dict[str, Any]],
        request_id: str,
        endpoint: str,
        started: float,
        ids: list[Any] | None,
        variants: list[Variant] | None,
    ) -> Job:
        chosen = variants if variants is not None else [Variant.prod] * len(outputs)
        return Job(
            request_id=request_id,
            endpoint=endpoint,
            records=records,
            outputs=outputs,
            model=self.info,
            timestamp=time.time(),
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            ids=ids,
            variants=chosen,
            canary=self.infos.get(Variant.canary),
        )

    def _count(self, job: Job) -> None:
        chosen = job.variants or [Variant.prod] * len(job.outputs)
        outputs = job.outputs
        elapsed = job.latency_ms / 1000
        for variant in dict.fromkeys(chosen):
            metrics.VARIANT_REQUESTS.labels(variant=variant.value, outcome=OUTCOME_OK).inc()
            metrics.VARIANT_LATENCY.labels(variant=variant.value).observe(elapsed)
        if "label" in outputs[0]:
            counts = Counter((v, str(o["label"])) for o, v in zip(outputs, chosen, strict=True))
            for (variant, label), n in counts.items():
                name = self.infos[variant]["model_name"]
                metrics.PREDICTIONS.labels(model=name, label=label).inc(n)
        else:
            for o, variant in zip(outputs, chosen, strict=True):
                metrics.VALUES.labels(model=self.infos[variant]["model_name"]).observe(o["value"])
        for feature in self.predictor.out_of_range(self.predictor.to_array(job.records)):
            metrics.OUT_OF_RANGE.labels(feature=feature).inc()

    def close(self) -> None:
        self.recorder.close()


def load_shadow(cfg: ServeConfig, trusted_packages: Sequence[str] = ()) -> Predictor | None:
    """The shadow predictor, or None when disabled or when it cannot be loaded (logged)."""
    if not cfg.shadow.enabled:
        return None
    if not cfg.shadow.model_path:
        logger.error("shadow.enabled is true but shadow.model_path is null; shadow is off")
        return None
    try:
        shadow = Predictor.from_dir(
            cfg.shadow.model_path, fast_path=cfg.fast_path, trusted_packages=trusted_packages
        )
    except Exception:
        logger.exception(
            "cannot load shadow model %s; serving without shadow", cfg.shadow.model_path
        )
        metrics.SHADOW.labels(outcome="load_error").inc()
        return None
    return shadow


def load_canary(
    cfg: ServeConfig, production: Predictor, trusted_packages: Sequence[str] = ()
) -> Predictor | None:
    """The canary predictor when ``serve.canary.enabled`` (else None).

    Loaded like production (the same trusted types: never an untrusted pickle). Unlike the
    shadow, a canary answers users: one that cannot be loaded, or that expects features or
    labels production's requests and responses do not have, stops the worker (the service's
    preflight refuses it first, with one message).

    Raises:
        DataError: naming ``serve.canary.model_path`` and the reason.
    """
    if not cfg.canary.enabled:
        return None
    assert cfg.canary.model_path  # check_serve refuses enabled without a path
    canary = Predictor.from_dir(
        cfg.canary.model_path, fast_path=cfg.fast_path, trusted_packages=trusted_packages
    )
    problem = incompatibility(production.schema, canary.schema)
    if problem is not None:
        raise DataError(f"{CANARY_KEY}: {cfg.canary.model_path}: {problem}")
    logger.info(
        "canary %s answers %.4g of the records (scoring: %s)",
        canary.info.as_dict(),
        cfg.canary.share,
        canary.parity,
    )
    return canary


def _count_outcome(outcome: Outcome) -> None:
    if outcome.count:
        metrics.SHADOW.labels(outcome=outcome.kind).inc(outcome.count)
        if outcome.kind == "disagree":
            metrics.SHADOW_DISAGREEMENTS.inc(outcome.count)


def _count_removal(removal: Removal) -> None:
    if removal.reason != "write_error":
        metrics.LOG_REMOVED_FILES.labels(reason=removal.reason).inc()
        logger.info(
            "prediction log retention (%s) removed %s (%d records)",
            removal.reason,
            removal.path,
            removal.records,
        )
    metrics.LOG_REMOVED_RECORDS.labels(reason=removal.reason).inc(removal.records)


def _log_path(path: str, workers: int) -> Path:
    if workers <= 1:
        return Path(path)
    from bentoml import server_context

    return Path(f"{path}.w{server_context.worker_index or 0}")


def _dispatcher(func: Any, cfg: ServeConfig) -> Any:
    from bentoml.exceptions import ServiceUnavailable

    from pr2prod.serving.bentoml_private import cork_dispatcher

    def overloaded() -> Any:
        raise ServiceUnavailable("process is overloaded")

    dispatcher: Any = cork_dispatcher(
        max_latency_in_ms=cfg.batching.max_latency_ms,
        max_batch_size=cfg.batching.max_batch_size,
        fallback=overloaded,
        get_batch_size=lambda _: 1,
    )
    return dispatcher(func)
