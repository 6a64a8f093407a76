"""Read the serving prediction log into one row per scored record.

The format is the one record model, :class:`pr2prod.logrecord.PredictionRecord`, written by
the server; :func:`pr2prod.logrecord.log_files` finds every file of the log (rotated,
per worker, gzip). Each record becomes one row: its inputs, ``row_id`` (the key labels join
on, :attr:`PredictionRecord.label_key`: the caller's ``id`` when the request carried one,
else the request id), ``timestamp``, ``model_version`` and ``prediction``
(the label, or the value of a regressor). A shadow model's answer attached to a record is
a row of its own only with ``include_shadow``. Lines that are not a record are counted,
not fatal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pr2prod.logrecord import LogReadStats, PredictionRecord, read_records

COLUMNS = ["row_id", "timestamp", "model_version", "prediction"]


def read_prediction_log(
    path: str | Path, include_shadow: bool = False
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rows with ``row_id``, ``timestamp`` (UTC), ``model_version``, ``prediction`` + inputs.

    Returns:
        The frame and counts: ``files``, ``lines``, ``records``, ``bad_lines`` and
        ``shadow_rows`` (shadow answers added as rows) or ``shadow_skipped`` (left out).

    Raises:
        FileNotFoundError: naming ``monitor.log`` when the path matches no log file.
    """
    stats = LogReadStats()
    rows: list[dict[str, Any]] = []
    shadow = 0
    try:
        for record in read_records(path, stats):
            rows.append(_row(record))
            if record.shadow is not None and record.shadow.output is not None:
                shadow += 1
                if include_shadow:
                    rows.append(_shadow_row(record))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{exc} (monitor.log)") from exc
    frame = pd.DataFrame(rows, columns=None if rows else COLUMNS)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    counts = {
        "files": stats.files,
        "lines": stats.lines,
        "records": stats.records,
        "bad_lines": stats.bad_lines,
        ("shadow_rows" if include_shadow else "shadow_skipped"): shadow,
    }
    return frame, counts


def _row(record: PredictionRecord) -> dict[str, Any]:
    return {
        **record.inputs,
        "row_id": record.label_key,
        "timestamp": record.timestamp,
        "model_version": record.model.model_version,
        "prediction": record.output.prediction,
    }


def _shadow_row(record: PredictionRecord) -> dict[str, Any]:
    shadow = record.shadow
    if shadow is None or shadow.output is None:
        raise ValueError(f"record {record.row_id} has no shadow output")
    return {
        **_row(record),
        "model_version": shadow.model.model_version,
        "prediction": shadow.output.prediction,
    }
