"""The prediction log's writer: JSON lines, rotated by size, kept until a retention rule.

One line per scored record, a :class:`pr2prod.logrecord.PredictionRecord` (format in
docs/serving.md). **A request's lines are written before it is answered**:
:meth:`PredictionLog.submit` (and :meth:`PredictionLog.submit_async` on the event loop)
returns only once its lines were handed to the OS with ``os.write``, so a ``kill -9`` of the
worker loses no answered record. Writes are a *group commit*: a request that finds the file
free and nobody waiting writes its own lines at once (a page-cache write, no thread
hand-off); requests that arrive while a write runs wait in a queue, and one writer thread
writes all of them in one ``os.write`` and wakes them, so concurrent requests share a write
instead of queueing behind each other.

Memory is bounded: the bytes accepted but not yet written are at most ``max_pending_bytes``
(``serve.prediction_log.max_pending_bytes``; one request larger than the bound is still
taken when nothing else is pending). A request that would pass the bound is refused with
:class:`LogOverloadedError` and the service answers it 503 with ``Retry-After``: the log
never buffers without limit and never lets a record be answered before it is written.

:class:`KeepingRotatingFileHandler` (a :class:`logging.handlers.RotatingFileHandler` used
for its rotation, not for emitting) rotates at request boundaries and never deletes a file
on rotation. Rotated files are named ``<path>.1`` (newest) … ``<path>.<k>`` (oldest) and
stay until the configured :class:`Retention` removes them; every removal is reported
(``on_remove``) with its record count, and the service counts it in ``/metrics``. With
several BentoML workers each worker writes its own file family (``<path>.w<N>``);
:func:`pr2prod.logrecord.log_files` finds them all again. A line cut by a kill in the middle
of a write is closed with a newline when the file is reopened, so the reader counts it as
one bad line and reads on (its request was never answered). Files are created ``0o640``
(then the umask): the log holds raw inputs.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from pr2prod.config.serve_schema import PredictionLogConfig
from pr2prod.logrecord import PredictionRecord, read_records

logger = logging.getLogger("pr2prod.serving")

Lines = Callable[[], Iterable[PredictionRecord]]
#: ``serve.prediction_log.max_pending_bytes`` of the schema (conf/serve/default.yaml sets it).
DEFAULT_MAX_PENDING_BYTES: int = PredictionLogConfig.max_pending_bytes
#: Seconds a client is told to wait (``Retry-After``) when the log refused its request.
RETRY_AFTER_S = 1
_FILE_MODE = 0o640


class LogUnavailableError(RuntimeError):
    """The log did not take a request's records: it must not be answered as a success."""


class LogOverloadedError(LogUnavailableError):
    """More than ``max_pending_bytes`` wait to be written: back-pressure (503, retry)."""


class LogWriteError(LogUnavailableError):
    """The request's lines could not be built or written (counted as ``write_error``)."""


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

    @property
    def file_lock(self) -> threading.RLock:
        """The handler's own lock (``Handler.__init__`` creates it; typeshed allows None)."""
        lock = self.lock
        if lock is None:
            raise RuntimeError(f"prediction log {self.baseFilename}: handler has no lock")
        return lock

    def _open(self) -> Any:
        """The file, unbuffered binary append (``0o640``); a line cut by a crash is closed."""
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _FILE_MODE)
        stream = open(fd, "ab", buffering=0)  # noqa: SIM115 - closed by close()/doRollover()
        if stream.tell() > 0:  # a line cut by a crash must not swallow the next one
            with open(self.baseFilename, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    _write_all(stream.fileno(), b"\n")
        return stream

    def write_chunks(self, chunks: list[bytes]) -> None:
        """Write each request's lines (``chunks``, each ending in a newline), rotating at a
        request boundary before a chunk would push a non-empty file past ``maxBytes``; one
        ``os.write`` per file touched."""
        with self.file_lock:  # the handler's own lock: no close() or rollover meanwhile
            self._write_chunks(chunks)

    def _write_chunks(self, chunks: list[bytes]) -> None:
        if self.stream is None:
            self.stream = self._open()
        size = self.stream.tell()
        group: list[bytes] = []
        for chunk in chunks:
            if size and size + len(chunk) > self.maxBytes:
                _write_all(self.stream.fileno(), b"".join(group))
                group = []
                self.doRollover()
                self.stream = self._open()
                size = self.stream.tell()
            group.append(chunk)
            size += len(chunk)
        _write_all(self.stream.fileno(), b"".join(group))

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

    def report_lost(self, lost: int, exc: BaseException) -> None:
        """Records that could not be written: reported (``write_error``), one line, no values."""
        self.on_remove(Removal(Path(self.baseFilename), lost, "write_error"))
        logger.error(
            "prediction log %s: %d record(s) not written (%s); their requests got 503",
            self.baseFilename,
            lost,
            type(exc).__name__,
        )

    def _rotated(self, k: int, suffix: str = "") -> Path:
        return Path(f"{self.baseFilename}.{k}{suffix}")

    def _highest_index(self) -> int:
        base = Path(self.baseFilename)
        pattern = re.compile(re.escape(base.name) + r"\.(\d+)(?:\.gz)?$")
        found = [pattern.match(p.name) for p in base.parent.iterdir()]
        return max((int(m[1]) for m in found if m), default=0)


@dataclass
class _Chunk:
    """One request's lines waiting for the writer, and how to tell it they are written."""

    data: bytes
    done: Callable[[BaseException | None], object]  # its return value is ignored


class PredictionLog:
    """Append JSON lines to ``path`` before the caller answers; rotate by size, keep by rule.

    ``max_pending_bytes`` bounds the bytes accepted but not yet written (back-pressure).
    """

    def __init__(
        self,
        path: str | Path,
        max_bytes: int,
        retention: Retention | None = None,
        on_remove: OnRemove | None = None,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
    ) -> None:
        if max_pending_bytes <= 0:
            raise ValueError(
                f"serve.prediction_log.max_pending_bytes: {max_pending_bytes} must be a "
                "positive byte count"
            )
        self.path = Path(path)
        self.max_pending_bytes = max_pending_bytes
        self.handler = KeepingRotatingFileHandler(self.path, max_bytes, retention, on_remove)
        self._cond = threading.Condition()
        self._queued: list[_Chunk] = []
        self._pending_bytes = 0  # queued + being written
        self._closed = False
        self._writer = threading.Thread(target=self._run, name="pr2prod-predlog", daemon=True)
        self._writer.start()

    @property
    def pending_bytes(self) -> int:
        """Bytes accepted but not yet written (at most ``max_pending_bytes``, or one request)."""
        return self._pending_bytes

    def submit(self, lines: Lines) -> None:
        """Write one request's records (built by ``lines`` in the caller's thread); return
        once they are written to the OS.

        Raises:
            LogOverloadedError: ``max_pending_bytes`` are already waiting (nothing written).
            LogWriteError: the lines could not be built or written (counted, logged).
            RuntimeError: after :meth:`close`.
        """
        data = self._encode(lines)
        if not data:
            return
        written = threading.Event()
        outcome: list[BaseException | None] = []

        def done(exc: BaseException | None) -> None:
            outcome.append(exc)
            written.set()

        if self._enqueue(_Chunk(data, done)):
            self._write_now(data)
            return
        written.wait()
        if outcome[0] is not None:
            raise outcome[0]

    async def submit_async(self, lines: Lines) -> None:
        """:meth:`submit` for the event loop: waits for the write without blocking the loop."""
        data = self._encode(lines)
        if not data:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def settle(exc: BaseException | None) -> None:
            if future.done():
                return
            if exc is None:
                future.set_result(None)
            else:
                future.set_exception(exc)

        if self._enqueue(_Chunk(data, lambda exc: loop.call_soon_threadsafe(settle, exc))):
            self._write_now(data)  # into the page cache: microseconds, no thread hand-off
            return
        await asyncio.shield(future)  # a cancelled request does not unsettle the write

    def write(self, record: PredictionRecord) -> None:
        """Write one record (returns once written)."""
        self.submit(lambda: (record,))

    def flush(self) -> None:
        """Kept for callers: every request's lines are written before its submit returns."""

    def close(self) -> None:
        """Write everything accepted, then close the file."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._writer.join()
        self.handler.close()

    def _encode(self, lines: Lines) -> bytes:
        if self._closed:
            raise RuntimeError(f"prediction log {self.path} is closed")
        try:
            return "".join(r.to_json() + "\n" for r in lines()).encode()
        except Exception as exc:
            self.handler.report_lost(1, exc)
            raise LogWriteError(f"prediction log {self.path}: records not built") from exc

    def _enqueue(self, chunk: _Chunk) -> bool:
        """Accept a chunk within the bound. True: nothing else waits and the file is free,
        so the caller holds the file's lock and writes it now (:meth:`_write_now`); False:
        queued for the writer thread, which writes it with the others that waited."""
        size = len(chunk.data)
        with self._cond:
            if self._closed:
                raise RuntimeError(f"prediction log {self.path} is closed")
            if self._pending_bytes and self._pending_bytes + size > self.max_pending_bytes:
                raise LogOverloadedError(
                    f"prediction log {self.path}: {self._pending_bytes} bytes wait to be "
                    f"written (serve.prediction_log.max_pending_bytes: {self.max_pending_bytes})"
                )
            self._pending_bytes += size
            if not self._queued and self.handler.file_lock.acquire(blocking=False):
                return True
            self._queued.append(chunk)
            self._cond.notify()
            return False

    def _write_now(self, data: bytes) -> None:
        """Write one chunk in the caller's thread (the file's lock is held: released here)."""
        try:
            error = self._write_group([data])
        finally:
            self.handler.file_lock.release()
            with self._cond:
                self._pending_bytes -= len(data)
        if error is not None:
            raise error

    def _write_group(self, datas: list[bytes]) -> LogWriteError | None:
        try:
            self.handler.write_chunks(datas)
        except Exception as exc:  # reported; the writer must outlive a failed write
            lost = sum(d.count(b"\n") for d in datas)
            self.handler.report_lost(lost, exc)
            error = LogWriteError(f"prediction log {self.path}: {lost} record(s) not written")
            error.__cause__ = exc
            self.handler.close()  # reopened (and a cut line closed) on the next write
            return error
        return None

    def _run(self) -> None:
        """The writer: take every queued chunk, write them in one go, wake their callers."""
        while True:
            with self._cond:
                while not self._queued and not self._closed:
                    self._cond.wait()
                if not self._queued:  # closed and drained
                    return
                group, self._queued = self._queued, []
            error = self._write_group([c.data for c in group])
            with self._cond:
                self._pending_bytes -= sum(len(c.data) for c in group)
            for chunk in group:
                chunk.done(error)


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a regular file rarely takes less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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
