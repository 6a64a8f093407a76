"""The prediction log's writer: JSON lines, rotated by size, read by monitoring and
shadow-report.

One line per scored record, a :class:`pr2prod.logrecord.PredictionRecord` (format in
docs/serving.md). Only one thread per process writes (the recorder's), so the writer needs
no lock; with several BentoML workers each worker writes its own file (``<path>.w<N>``).
:func:`pr2prod.logrecord.log_files` finds them all again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from pr2prod.logrecord import PredictionRecord, read_records


class PredictionLog:
    """Append JSON lines to ``path``; rotate to ``path.1`` … ``path.<backups>`` by size."""

    def __init__(self, path: str | Path, max_bytes: int, backups: int) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = None
        self._size = 0

    def _open(self) -> IO[str]:
        if self._fh is None:
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
            self._size = self._fh.tell()
        return self._fh

    def write(self, record: PredictionRecord) -> None:
        """Append one record (rotating first when it would not fit)."""
        line = record.to_json() + "\n"
        fh = self._open()
        if self._size and self._size + len(line) > self.max_bytes:
            self._rotate()
            fh = self._open()
        fh.write(line)
        self._size += len(line)

    def _rotate(self) -> None:
        self.close()
        if self.backups <= 0:
            self.path.unlink(missing_ok=True)
            return
        for i in range(self.backups - 1, 0, -1):
            src = self.path.with_name(f"{self.path.name}.{i}")
            if src.exists():
                os.replace(src, self.path.with_name(f"{self.path.name}.{i + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_log(path: str | Path) -> list[PredictionRecord]:
    """Every record of a log: its rotated, per-worker and gzip files, oldest first."""
    return list(read_records(path))
