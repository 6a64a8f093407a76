"""What the canary report judges: the prediction log split by variant, labels, ``/metrics``.

The log is read through the one record model (:func:`pr2prod.logrecord.read_records`);
lines that are not a record are counted, never dropped silently. Labels join on the
record's :attr:`~pr2prod.logrecord.PredictionRecord.label_key` exactly as ``pr2prod monitor
--labels`` does (:func:`pr2prod.monitor.window.join_labels`). Error rates come from the
server's per-variant request counter (:data:`pr2prod.logrecord.variant.VARIANT_REQUESTS_METRIC`)
in a ``/metrics`` scrape, a URL or a saved file, parsed by ``prometheus_client``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pr2prod.errors import DataError
from pr2prod.logrecord import LogReadStats, ModelRef, PredictionRecord, Variant, read_records
from pr2prod.logrecord.variant import OUTCOME_ERROR, OUTCOME_OK, VARIANT_REQUESTS_METRIC


@dataclass
class LogEvidence:
    """One row per logged record (``row_id``, ``timestamp``, ``variant``, ``prediction``,
    ``request_id``, ``latency_ms``), the models seen per variant and the reading counts."""

    frame: pd.DataFrame
    models: dict[Variant, list[ModelRef]]
    stats: LogReadStats
    before_since: int = 0  # records older than ``since`` (left out on purpose)
    task: str = "classification"  # or "regression": records carry a value, not a label


@dataclass
class OutcomeCounts:
    """Requests a variant answered (``ok``) or failed (``error``) per ``/metrics``."""

    ok: float = 0.0
    error: float = 0.0

    @property
    def total(self) -> float:
        return self.ok + self.error

    @property
    def rate(self) -> float | None:
        return self.error / self.total if self.total > 0 else None


@dataclass
class MetricsEvidence:
    """Per-variant outcome counts from one scrape and where it came from."""

    source: str
    counts: dict[Variant, OutcomeCounts] = field(default_factory=dict)


def read_log(path: str | Path, since: dt.datetime | None = None) -> LogEvidence:
    """Every record of the log at ``path`` (from ``since`` on), one row each.

    Raises:
        FileNotFoundError: naming the log when it matches no file.
        DataError: no record at all, or classifier and regressor records mixed.
    """
    stats = LogReadStats()
    rows: list[dict[str, object]] = []
    models: dict[Variant, list[ModelRef]] = {Variant.prod: [], Variant.canary: []}
    before = 0
    kinds: set[str] = set()
    for record in read_records(path, stats):
        if since is not None and record.timestamp < since:
            before += 1
            continue
        rows.append(_row(record))
        kinds.add("classification" if record.output.label is not None else "regression")
        seen = models[record.answered_by]
        if record.model not in seen:
            seen.append(record.model)
    if not rows:
        raise DataError(
            f"prediction log {path}: no record to compare ({stats.lines} lines, "
            f"{stats.bad_lines} unreadable, {before} before --since)"
        )
    if len(kinds) > 1:
        raise DataError(f"prediction log {path}: classifier and regressor records are mixed")
    return LogEvidence(pd.DataFrame(rows), models, stats, before, kinds.pop())


def _row(record: PredictionRecord) -> dict[str, object]:
    return {
        "row_id": record.label_key,
        "timestamp": record.timestamp,
        "variant": record.answered_by.value,
        "prediction": record.output.prediction,
        "request_id": record.request_id,
        "latency_ms": record.latency_ms,
    }


def latency_percentiles(frame: pd.DataFrame, variant: Variant) -> tuple[float, float] | None:
    """(p50, p95) of request latency (ms) for ``variant``; one value per request.

    Records of one request share its latency, so each request counts once.
    """
    mine = frame.loc[frame["variant"] == variant.value]
    per_request = mine.drop_duplicates("request_id")["latency_ms"].to_numpy(dtype=float)
    if per_request.size == 0:
        return None
    p50, p95 = np.percentile(per_request, [50, 95])
    return float(p50), float(p95)


def read_metrics(source: str) -> MetricsEvidence:
    """Per-variant outcome counts from a ``/metrics`` URL (http/https) or a saved file.

    Sums ``pr2prod_variant_requests`` over any further labels (workers, endpoints).

    Raises:
        DataError: unreachable URL, unreadable file, or text that is not Prometheus format.
    """
    from prometheus_client.parser import text_string_to_metric_families

    text = _fetch(source)
    counts: dict[Variant, OutcomeCounts] = {}
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as exc:
        raise DataError(f"--metrics {source}: not Prometheus text format: {exc}") from exc
    names = {VARIANT_REQUESTS_METRIC, f"{VARIANT_REQUESTS_METRIC}_total"}
    for family in families:
        for sample in family.samples:
            if sample.name not in names:
                continue
            try:
                variant = Variant(sample.labels.get("variant", ""))
            except ValueError:
                continue  # a variant this version does not know: not ours to judge
            outcome = sample.labels.get("outcome")
            got = counts.setdefault(variant, OutcomeCounts())
            if outcome == OUTCOME_OK:
                got.ok += sample.value
            elif outcome == OUTCOME_ERROR:
                got.error += sample.value
    return MetricsEvidence(source, counts)


def _fetch(source: str) -> str:
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            response = httpx.get(source, timeout=10.0)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise DataError(f"--metrics {source}: cannot scrape: {exc}") from exc
        return response.text
    path = Path(source)
    if not path.is_file():
        raise DataError(f"--metrics {source}: no such file (or give an http(s):// URL)")
    return path.read_text(encoding="utf-8")
