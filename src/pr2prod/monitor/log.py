"""Read the serving prediction log (JSON lines) into one row per scored record.

Kept small and tolerant on purpose: the serving feature owns the format. Expected records::

    {"request_id": "...", "timestamp": "2026-01-01T00:00:00Z",
     "inputs": {"feature": value, ...} | [{...}, ...],
     "outputs": {"prediction": p | [p, ...], "probabilities": {...} | [...]},
     "model": {"name": "...", "version": "...", "artifact_hash": "..."},
     "shadow": false | true | {...}}

A record whose ``shadow`` is ``true`` (or ``role`` is ``"shadow"``) is a candidate's
prediction and is skipped unless asked for; a dict under ``shadow`` is the candidate's output
attached to a served record and is ignored. Lines that are not JSON or lack inputs are
counted, not fatal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

LOG_PATTERNS = ("*.jsonl", "*.json", "*.log")


def log_files(path: str | Path) -> list[Path]:
    """The log file itself, or the matching files of a directory in name order."""
    p = Path(path)
    if p.is_file():
        return [p]
    if p.is_dir():
        return sorted({f for pattern in LOG_PATTERNS for f in p.rglob(pattern)})
    raise FileNotFoundError(f"prediction log {p}: no such file or directory (monitor.log)")


def read_prediction_log(
    path: str | Path, id_column: str = "row_id", include_shadow: bool = False
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rows with ``row_id``, ``timestamp`` (UTC), ``model_version``, ``prediction`` + inputs.

    Returns:
        The frame and counts: ``lines``, ``records``, ``bad_lines``, ``shadow_skipped``.
    """
    rows: list[dict[str, Any]] = []
    counts = {"lines": 0, "records": 0, "bad_lines": 0, "shadow_skipped": 0}
    for file in log_files(path):
        for record in _records(file, counts):
            if _is_shadow(record) and not include_shadow:
                counts["shadow_skipped"] += 1
                continue
            new = list(_rows(record, id_column))
            counts["records"] += 1 if new else 0
            counts["bad_lines"] += 0 if new else 1
            rows.extend(new)
    frame = pd.DataFrame(
        rows, columns=None if rows else ["row_id", "timestamp", "model_version", "prediction"]
    )
    frame["timestamp"] = parse_timestamps(frame["timestamp"])
    return frame, counts


def parse_timestamps(values: pd.Series) -> pd.Series:
    """ISO strings or epoch seconds to UTC datetimes (unparseable -> NaT)."""
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_datetime(values, unit="s", utc=True, errors="coerce")
    return pd.to_datetime(values, utc=True, errors="coerce", format="mixed")


def _records(file: Path, counts: dict[str, int]) -> Iterator[dict[str, Any]]:
    with file.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            counts["lines"] += 1
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                counts["bad_lines"] += 1
                continue
            if isinstance(record, dict):
                yield record
            else:
                counts["bad_lines"] += 1


def _is_shadow(record: dict[str, Any]) -> bool:
    return record.get("shadow") is True or record.get("role") == "shadow"


def _rows(record: dict[str, Any], id_column: str) -> Iterator[dict[str, Any]]:
    inputs = record.get("inputs", record.get("input", record.get("features")))
    outputs = record.get("outputs", record.get("output")) or {}
    items = inputs if isinstance(inputs, list) else [inputs] if isinstance(inputs, dict) else []
    preds = (
        outputs.get("prediction", outputs.get("predictions")) if isinstance(outputs, dict) else None
    )
    preds = preds if isinstance(preds, list) else [preds] * len(items)
    model = record.get("model") or {}
    version = (
        (model.get("version") or model.get("artifact_hash")) if isinstance(model, dict) else model
    )
    request = record.get("request_id", record.get("id"))
    for i, (item, pred) in enumerate(zip(items, preds, strict=False)):
        if not isinstance(item, dict):
            continue
        row_id = record.get("row_id", item.get(id_column))
        if row_id is None:
            row_id = request if len(items) == 1 else f"{request}#{i}"
        yield {
            **item,
            "row_id": row_id,
            "timestamp": record.get("timestamp", record.get("ts")),
            "model_version": version,
            "prediction": pred,
        }
