"""The prediction log's writer: JSON lines, rotated by size, kept until a retention rule.

One line per scored record, a :class:`pr2prod.logrecord.PredictionRecord` (format in
docs/serving.md). The plumbing is the standard library's: callers put work on a
:class:`logging.handlers.QueueHandler` (never blocks), one
:class:`logging.handlers.QueueListener` thread per process turns it into lines and hands them
to :class:`KeepingRotatingFileHandler`, a :class:`logging.handlers.RotatingFileHandler` that
flushes after every request's lines and never deletes a file on rotation. Rotated files are
named ``<path>.1`` (newest) … ``<path>.<k>`` (oldest) and stay until the configured
:class:`Retention` removes them; every removal is reported (``on_remove``) with its record
count, and the service counts it in ``/metrics``. With several BentoML workers each worker
writes its own file family (``<path>.w<N>``); :func:`pr2prod.logrecord.log_files` finds them
all again.

What a crash loses: a SIGKILL loses only lines still in the queue (requests whose work was
handed over but not yet written, normally well under a millisecond), never a written line;
a line cut by the kill is closed with a newline when the file is reopened, so the reader
counts it as one bad line and reads on.
"""

from __future__ import annotations

import gzip
import logging
import os
import queue
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from logging.handlers import QueueHandler, QueueListener, RotatingFileHandler
from pathlib import Path
from typing import Any, cast

from pr2prod.logrecord import PredictionRecord, read_records

logger = logging.getLogger("pr2prod.serving")

Lines = Callable[[], Iterable[PredictionRecord]]


@dataclass(frozen=True)
class Retention:
    """When rotated files are removed; ``None`` disables a rule (both None: keep everything).

    ``max_files``: keep at most this many rotated files per writer (the newest).
    ``max_age_days``: remove rotated files last written more than this many days ago.
    Checked at start-up and after every rotation; the file being written is never removed.
    """

    max_files: int | None = None
    max_age_days: float | None = None

    def __post_init__(self) -> None:
        if self.max_files is not None and self.max_files < 0:
            raise ValueError(
                f"serve.prediction_log.retention.max_files: {self.max_files} is negative "
                "(null keeps every file, 0 keeps none)"
            )
        if self.max_age_days is not None and self.max_age_days < 0:
            raise ValueError(
                f"serve.prediction_log.retention.max_age_days: {self.max_age_days} is negative "
                "(null keeps files of any age)"
            )


@dataclass(frozen=True)
class Removal:
    """A rotated file the retention rule removed (``reason``: max_files or max_age_days),
    or records a failed write lost (``reason``: write_error, ``path`` the log)."""

    path: Path
    records: int
    reason: str


OnRemove = Callable[[Removal], None]


class KeepingRotatingFileHandler(RotatingFileHandler):
    """A size-rotating file handler that deletes nothing except by its :class:`Retention`.

    On rollover every rotated file (and its ``.gz`` twin from an external compressor) moves
    up one index, the current file becomes ``.1``, then the retention rule runs. Each
    removed file is reported to ``on_remove`` with the number of records it held.
    """

    def __init__(
        self,
        filename: str | Path,
        max_bytes: int,
        retention: Retention | None = None,
        on_remove: OnRemove | None = None,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError(
                f"serve.prediction_log.max_bytes: {max_bytes} must be a positive byte count"
            )
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(filename, mode="a", maxBytes=max_bytes, encoding="utf-8", delay=True)
        self.retention = retention or Retention()
        self.on_remove = on_remove or (lambda _r: None)
        self.apply_retention()

    def _open(self) -> Any:
        stream = super()._open()
        if stream.tell() > 0:  # a line cut by a crash must not swallow the next one
            with open(self.baseFilename, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    stream.write("\n")
        return stream

    def format(self, record: logging.LogRecord) -> str:
        """Format once: rollover check and write share the text."""
        text = getattr(record, "_pr2prod_text", None)
        if text is None:
            text = super().format(record)
            record._pr2prod_text = text
        return str(text)

    def shouldRollover(self, record: logging.LogRecord) -> bool:  # noqa: N802 - stdlib name
        """Rotate when this request's lines would push a non-empty file past ``maxBytes``."""
        if self.stream is None:
            self.stream = self._open()
        size = self.stream.tell()
        return bool(size and size + len(self.format(record).encode()) + 1 > self.maxBytes)

    def doRollover(self) -> None:  # noqa: N802 - stdlib name
        """Shift every rotated file up one index (deleting none), then apply retention."""
        if self.stream:
            self.stream.close()
            self.stream = None  # type: ignore[assignment]
        for k in range(self._highest_index(), 0, -1):
            for suffix in ("", ".gz"):
                src = self._rotated(k, suffix)
                if src.exists():
                    os.replace(src, self._rotated(k + 1, suffix))
        if os.path.exists(self.baseFilename):
            self.rotate(self.baseFilename, self.rotation_filename(f"{self.baseFilename}.1"))
        self.apply_retention()

    def apply_retention(self) -> list[Removal]:
        """Remove the rotated files the retention rule no longer keeps (reported)."""
        rule = self.retention
        if rule.max_files is None and rule.max_age_days is None:
            return []
        cutoff = None if rule.max_age_days is None else time.time() - rule.max_age_days * 86400
        removed: list[Removal] = []
        for k in range(1, self._highest_index() + 1):
            for suffix in ("", ".gz"):
                path = self._rotated(k, suffix)
                if not path.exists():
                    continue
                if rule.max_files is not None and k > rule.max_files:
                    reason = "max_files"
                elif cutoff is not None and path.stat().st_mtime < cutoff:
                    reason = "max_age_days"
                else:
                    continue
                twin = suffix == ".gz" and self._rotated(k).exists()  # a copy being made
                removal = Removal(path, 0 if twin else count_lines(path), reason)
                path.unlink(missing_ok=True)
                removed.append(removal)
                self.on_remove(removal)
        return removed

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - stdlib name
        """A failed write is reported as lost records and logged in one line (no values)."""
        lost = getattr(record, "_pr2prod_text", "").count("\n") + 1
        self.on_remove(Removal(Path(self.baseFilename), lost, "write_error"))
        exc = sys.exc_info()[1]
        logger.error(
            "prediction log %s: %d record(s) not written (%s)",
            self.baseFilename,
            lost,
            type(exc).__name__ if exc else "unknown error",
        )

    def _rotated(self, k: int, suffix: str = "") -> Path:
        return Path(f"{self.baseFilename}.{k}{suffix}")

    def _highest_index(self) -> int:
        base = Path(self.baseFilename)
        pattern = re.compile(re.escape(base.name) + r"\.(\d+)(?:\.gz)?$")
        found = [pattern.match(p.name) for p in base.parent.iterdir()]
        return max((int(m[1]) for m in found if m), default=0)


class _LinesFormatter(logging.Formatter):
    """A queued item's ``msg`` is a callable giving its records: one JSON line each."""

    def format(self, record: logging.LogRecord) -> str:
        lines = cast(Lines, record.msg)
        return "\n".join(r.to_json() for r in lines())


class _PassThroughQueueHandler(QueueHandler):
    """Queue the record as it is: the lines are built in the listener thread."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class PredictionLog:
    """Append JSON lines to ``path`` off the caller's thread; rotate by size, keep by rule."""

    def __init__(
        self,
        path: str | Path,
        max_bytes: int,
        retention: Retention | None = None,
        on_remove: OnRemove | None = None,
    ) -> None:
        self.path = Path(path)
        self.handler = KeepingRotatingFileHandler(self.path, max_bytes, retention, on_remove)
        self.handler.setFormatter(_LinesFormatter())
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._enqueue = _PassThroughQueueHandler(self._queue)
        self._listener = QueueListener(self._queue, self.handler)
        self._listener.start()
        self._closed = False

    def submit(self, lines: Lines) -> None:
        """Queue one request's records (built by ``lines`` in the writer thread); never blocks.

        Raises:
            RuntimeError: after :meth:`close`.
        """
        if self._closed:
            raise RuntimeError(f"prediction log {self.path} is closed")
        self._enqueue.emit(
            logging.LogRecord("pr2prod.predictions", logging.INFO, "", 0, lines, None, None)
        )

    def write(self, record: PredictionRecord) -> None:
        """Queue one record."""
        self.submit(lambda: (record,))

    def flush(self) -> None:
        """Kept for callers: every request's lines are already flushed once written."""

    def close(self) -> None:
        """Write everything queued, then close the file."""
        if self._closed:
            return
        self._closed = True
        self._listener.stop()
        self.handler.close()


def count_lines(path: Path) -> int:
    """Non-blank lines of a (possibly gzip) log file: its records, bad lines included."""
    opener: Callable[..., Any] = gzip.open if path.name.endswith(".gz") else open
    count = 0
    try:
        with opener(path, "rb") as fh:
            for line in fh:
                count += bool(line.strip())
    except (OSError, EOFError):  # a truncated .gz still counts what it holds
        pass
    return count


def read_log(path: str | Path) -> list[PredictionRecord]:
    """Every record of a log: its rotated, per-worker and gzip files, oldest first."""
    return list(read_records(path))
