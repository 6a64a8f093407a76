"""The service's state and per-request work, kept out of the service file.

:class:`Runtime` owns the production :class:`Predictor`, the optional shadow predictor, the
:class:`Recorder` (prediction log + shadow scoring off the response path) and, when
``batching.enabled``, BentoML's adaptive-batching dispatcher (``CorkDispatcher``, the engine
behind ``@bentoml.api(batchable=True)``) that merges concurrent ``/predict`` calls into one
model call. Model calls from ``/predict`` run in a worker thread (one at a time), never on
the event loop, so a long batch does not stall other requests or the health endpoints.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pr2prod.config.serve_schema import ServeConfig
from pr2prod.serving import metrics
from pr2prod.serving.predictor import Predictor
from pr2prod.serving.predlog import PredictionLog, Removal, Retention
from pr2prod.serving.recorder import Job, Outcome, Recorder

logger = logging.getLogger("pr2prod.serving")


class Runtime:
    """Production predictor, shadow, recorder and batching for one worker process."""

    def __init__(
        self, predictor: Predictor, shadow: Predictor | None, recorder: Recorder, cfg: ServeConfig
    ) -> None:
        self.predictor = predictor
        self.shadow = shadow
        self.recorder = recorder
        self.info: dict[str, Any] = predictor.info.as_dict()
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
        log = None
        if cfg.prediction_log.enabled:
            log = PredictionLog(
                _log_path(cfg.prediction_log.path, cfg.workers),
                cfg.prediction_log.max_bytes,
                Retention(**vars(cfg.prediction_log.retention)),
                on_remove=_count_removal,
            )
        recorder = Recorder(
            log, shadow, cfg.shadow.timeout_s, cfg.shadow.queue_size, on_outcome=_count_outcome
        )
        return cls(predictor, shadow, recorder, cfg)

    async def score_one(self, record: dict[str, Any]) -> dict[str, Any]:
        if self._batched is not None:
            return await self._batched(record)
        return (await self._score_async([record]))[0]

    def score_many(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        scores = self.predictor.score(self.predictor.to_array(records))
        return [scores.output(i) for i in range(len(records))]

    async def _score_async(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """:meth:`score_many` in a worker thread (one model call at a time per process)."""
        import anyio

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(self.score_many, records, limiter=self._limiter)

    def after(
        self,
        records: list[dict[str, Any]],
        outputs: list[dict[str, Any]],
        request_id: str,
        endpoint: str,
        started: float,
        ids: list[Any] | None = None,
    ) -> None:
        """Metrics now; prediction log and shadow scoring handed to the recorder."""
        name = self.info["model_name"]
        if "label" in outputs[0]:
            for label, n in Counter(str(o["label"]) for o in outputs).items():
                metrics.PREDICTIONS.labels(model=name, label=label).inc(n)
        else:
            for o in outputs:
                metrics.VALUES.labels(model=name).observe(o["value"])
        for feature in self.predictor.out_of_range(self.predictor.to_array(records)):
            metrics.OUT_OF_RANGE.labels(feature=feature).inc()
        if self.recorder.active:
            self.recorder.submit(
                Job(
                    request_id=request_id,
                    endpoint=endpoint,
                    records=records,
                    outputs=outputs,
                    model=self.info,
                    timestamp=time.time(),
                    latency_ms=round((time.perf_counter() - started) * 1000, 3),
                    ids=ids,
                )
            )

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
    from bentoml._internal.context import server_context

    return Path(f"{path}.w{server_context.worker_index or 0}")


def _dispatcher(func: Any, cfg: ServeConfig) -> Any:
    from bentoml._internal.marshal.dispatcher import CorkDispatcher
    from bentoml.exceptions import ServiceUnavailable

    def overloaded() -> Any:
        raise ServiceUnavailable("process is overloaded")

    dispatcher: Any = CorkDispatcher(
        max_latency_in_ms=cfg.batching.max_latency_ms,
        max_batch_size=cfg.batching.max_batch_size,
        fallback=overloaded,
        get_batch_size=lambda _: 1,
    )
    return dispatcher(func)
