"""Find every file of a prediction log and read its records, each exactly once.

A log named ``logs/predictions.jsonl`` is written as that file, or, with several workers,
as ``<path>.w<N>`` per worker. Rotation renames a file to ``.1`` (the newest) … ``.<k>``
(the oldest), and an external compressor may gzip any rotated file (``.1.gz``). Given the
log's path, :func:`log_files` returns all of them, oldest first per writer; given a
directory, it does the same for every ``*.jsonl`` log in it.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from pr2prod.logrecord.record import PredictionRecord

_SUFFIXES = r"(?:\.w(?P<worker>\d+))?(?:\.(?P<k>\d+))?(?P<gz>\.gz)?$"
_ANY_LOG = re.compile(r"^(?P<base>.+?\.jsonl)" + _SUFFIXES)


@dataclass
class LogReadStats:
    """What reading a log met: files, non-blank lines, records and refused lines."""

    files: int = 0
    lines: int = 0
    records: int = 0
    bad_lines: int = 0


def log_files(path: str | Path) -> list[Path]:
    """Every file of the log at ``path`` (a log's path or a directory of logs), oldest first.

    Order: per log and worker, ``.<k>`` … ``.1`` then the current file. When both ``x.1``
    and ``x.1.gz`` exist (compression in progress), only the complete ``x.1`` is read.

    Raises:
        FileNotFoundError: naming ``path`` when it matches no file.
    """
    p = Path(path)
    is_dir = p.is_dir()
    folder = p if is_dir else p.parent
    pattern = _ANY_LOG if is_dir else re.compile(f"^(?P<base>{re.escape(p.name)})" + _SUFFIXES)
    parts: dict[tuple[str, int, int], Path] = {}
    for f in folder.iterdir() if folder.is_dir() else []:
        m = pattern.match(f.name)
        if m is None or not f.is_file():
            continue
        worker = -1 if m["worker"] is None else int(m["worker"])
        key = (m["base"], worker, -int(m["k"] or 0))  # sorted: .<k> ... .1, then current
        if key in parts and m["gz"]:
            continue  # the uncompressed twin is complete; the .gz may still be written
        parts[key] = f
    if not parts:
        raise FileNotFoundError(
            f"prediction log {p}: no such file (looked for {p.name}, {p.name}.<k>, "
            f"{p.name}.w<N>[.<k>] and their .gz)"
            if not is_dir
            else f"prediction log directory {p}: no *.jsonl log in it"
        )
    return [parts[k] for k in sorted(parts)]


def read_records(path: str | Path, stats: LogReadStats | None = None) -> Iterator[PredictionRecord]:
    """Every valid record of the log at ``path``, oldest file first.

    Lines that are not a record of this schema version (a line cut by a crash, another
    format) are counted in ``stats.bad_lines`` and skipped.
    """
    stats = stats if stats is not None else LogReadStats()
    for file in log_files(path):
        stats.files += 1
        with _open(file) as fh:
            for line in fh:
                if not line.strip():
                    continue
                stats.lines += 1
                try:
                    record = PredictionRecord.model_validate_json(line)
                except ValidationError:
                    stats.bad_lines += 1
                    continue
                stats.records += 1
                yield record


def _open(file: Path) -> IO[str]:
    if file.name.endswith(".gz"):
        return gzip.open(file, "rt", encoding="utf-8")
    return file.open(encoding="utf-8")
