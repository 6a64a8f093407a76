"""Parquet output: predictions.parquet and rejects.parquet, byte-identical on re-runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pr2prod.logrecord.scored import PREDICTIONS_FILE, REJECTS_FILE


class ParquetSink:
    """Append chunks to two Parquet files inside ``directory`` (a temporary dir renamed later).

    Files are written without timestamps, with one row group per chunk, so the same input and
    model give the same bytes.
    """

    def __init__(self, directory: Path, prediction_columns: list[str]) -> None:
        self.directory = directory
        self._columns = prediction_columns
        self._writers: dict[str, pq.ParquetWriter] = {}

    def write(self, predictions: pd.DataFrame, rejects: pd.DataFrame) -> None:
        """Append one chunk's predictions and rejects."""
        if len(predictions):
            self._append(PREDICTIONS_FILE, predictions)
        if len(rejects):
            self._append(REJECTS_FILE, rejects)

    def close(self, empty_predictions: pd.DataFrame, empty_rejects: pd.DataFrame) -> None:
        """Finish both files; a file that got no rows is written empty with its columns."""
        for name, empty in ((PREDICTIONS_FILE, empty_predictions), (REJECTS_FILE, empty_rejects)):
            if name not in self._writers:
                self._append(name, empty)
            self._writers[name].close()

    def _append(self, name: str, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = self._writers.get(name)
        if writer is None:
            writer = pq.ParquetWriter(self.directory / name, table.schema, **_OPTIONS)
            self._writers[name] = writer
        elif table.schema != writer.schema:
            table = table.cast(writer.schema)
        writer.write_table(table)


_OPTIONS: dict[str, Any] = {"compression": "zstd", "write_statistics": True}
