"""Hand a scored request's records to the prediction log, and score the shadow model.

The API hands each scored request to :meth:`Recorder.submit` (or :meth:`Recorder.submit_async`
on the event loop) before it answers. Without a shadow model the request's lines are written
to the log then and there: the call returns once they are written, and raises
:class:`~.predlog.LogUnavailableError` when the log refuses them (back-pressure or a failed
write), so the request is not answered as a success.

With a shadow model, a daemon thread takes requests off a bounded queue (``shadow.queue_size``),
scores the shadow model, compares, updates metrics and then writes the lines. A failing, slow
or missing shadow model, or a full shadow queue, never changes or delays a production
response: a request that finds the shadow queue full is logged at once without a shadow
answer (counted as outcome ``skipped``). Those queued requests are answered before their
lines are written, so a ``kill -9`` during a shadow deployment can lose up to
``shadow.queue_size`` answered requests' records (docs/serving.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pr2prod.logrecord import ModelRef, Output, PredictionRecord, ShadowResult
from pr2prod.logrecord.variant import Variant
from pr2prod.serving.predlog import LogOverloadedError, PredictionLog

logger = logging.getLogger("pr2prod.serving")


@dataclass(frozen=True)
class Outcome:
    """How many records of a request ended in ``kind`` (agree, disagree, error, ...)."""

    kind: str
    count: int


@dataclass
class Job:
    """One scored request: its inputs, the answers and timing.

    ``model`` is production's; ``variants`` says who answered each record (None: all
    production) and ``canary`` is the canary's model when one is served.
    """

    request_id: str
    endpoint: str
    records: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    model: dict[str, str]
    latency_ms: float
    timestamp: float
    ids: list[Any] | None = None
    variants: list[Variant] | None = None
    canary: dict[str, str] | None = None


class Recorder:
    """Queue + worker thread; ``shadow`` scores an array like ``Predictor.score(..).output``."""

    def __init__(
        self,
        log: PredictionLog | None,
        shadow: Any | None,
        timeout_s: float,
        queue_size: int,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.log = log
        self.shadow = shadow
        self.timeout_s = timeout_s
        self.on_outcome = on_outcome or (lambda _o: None)
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=queue_size)
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="pr2prod-recorder", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        return self.log is not None or self.shadow is not None

    def submit(self, job: Job) -> None:
        """Write the job's records (returns once written), or queue it for the shadow.

        Without a shadow it goes straight to the log; a full shadow queue skips the shadow
        (counted in ``dropped`` and as outcome ``skipped``) and writes the records at once.

        Raises:
            LogUnavailableError: the log refused the records (answer 503, not 200).
        """
        if self.shadow is None or not self._queued_for_shadow(job):
            self._log(job, None)

    async def submit_async(self, job: Job) -> None:
        """:meth:`submit` on the event loop (waits for the write without blocking the loop)."""
        if self.shadow is not None and self._queued_for_shadow(job):
            return
        if self.log is not None:
            await self.log.submit_async(lambda: log_records(job, None))

    def _queued_for_shadow(self, job: Job) -> bool:
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.dropped += 1
            self.on_outcome(Outcome("skipped", len(job.records)))
            return False
        return True

    def _log(self, job: Job, shadow: list[dict[str, Any]] | None) -> None:
        if self.log is not None:
            self.log.submit(lambda: log_records(job, shadow))

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                break
            try:
                self._handle(job)
            except Exception:  # the recorder must outlive any bad job
                logger.exception("shadow scoring failed for request %s", job.request_id)

    def _handle(self, job: Job) -> None:
        shadow = self._score_shadow(job) if self.shadow is not None else None
        while True:  # an answered request: wait for room rather than lose its records
            try:
                self._log(job, shadow)
                return
            except LogOverloadedError:
                time.sleep(0.01)

    def _score_shadow(self, job: Job) -> list[dict[str, Any]]:
        shadow = self.shadow
        assert shadow is not None
        started = time.perf_counter()
        try:
            scores = shadow.score(shadow.to_array(job.records))
            outs = [scores.output(i) for i in range(len(job.records))]
        except Exception as exc:
            ms = round((time.perf_counter() - started) * 1000, 3)
            self.on_outcome(Outcome("error", len(job.records)))
            err = f"{type(exc).__name__}: {str(exc)[:200]}"
            return [
                {"model": shadow.info.as_dict(), "error": err, "latency_ms": ms}
                for _ in job.records
            ]
        ms = round((time.perf_counter() - started) * 1000, 3)
        if ms > self.timeout_s * 1000:
            self.on_outcome(Outcome("timeout", len(job.records)))
            return [
                {"model": shadow.info.as_dict(), "error": "timeout", "latency_ms": ms}
                for _ in job.records
            ]
        agree = [_same(a, b) for a, b in zip(job.outputs, outs, strict=True)]
        self.on_outcome(Outcome("agree", sum(agree)))
        self.on_outcome(Outcome("disagree", len(agree) - sum(agree)))
        return [
            {"model": shadow.info.as_dict(), "output": o, "latency_ms": ms, "agree": a}
            for o, a in zip(outs, agree, strict=True)
        ]

    def close(self, timeout: float = 5.0) -> None:
        """Finish queued shadow jobs (up to ``timeout`` seconds), write and close the log."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            pass
        else:
            self._thread.join(timeout)
        if self.log is not None:
            self.log.close()


def log_records(job: Job, shadow: list[dict[str, Any]] | None = None) -> list[PredictionRecord]:
    """The prediction-log records of one scored request (one per record, in order).

    Each names the variant that answered it and that variant's model.
    """
    ts = dt.datetime.fromtimestamp(job.timestamp, dt.UTC)
    models = {Variant.prod: ModelRef(**job.model)}
    if job.canary is not None:
        models[Variant.canary] = ModelRef(**job.canary)
    variants = job.variants or [Variant.prod] * len(job.records)
    return [
        PredictionRecord(
            request_id=job.request_id,
            index=i,
            id=None if job.ids is None else job.ids[i],
            timestamp=ts,
            endpoint=job.endpoint,
            inputs=rec,
            output=Output(**out),
            model=models[variants[i]],
            latency_ms=job.latency_ms,
            shadow=None if shadow is None else ShadowResult(**shadow[i]),
            variant=variants[i],
        )
        for i, (rec, out) in enumerate(zip(job.records, job.outputs, strict=True))
    ]


def _same(prod: dict[str, Any], shadow: dict[str, Any]) -> bool:
    if "label" in prod:
        return bool(prod["label"] == shadow.get("label"))
    return bool(np.isclose(prod["value"], shadow.get("value", np.nan), rtol=1e-6, atol=0.0))
