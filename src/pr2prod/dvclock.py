"""The one reader of ``dvc.lock``, and DVC's directory hash.

A lock is read from a file or from a git revision's text (``git show <rev>:dvc.lock``); the
questions asked of it are answered here: the out entry of a path (of one stage or any),
the stage that writes a path and its inputs (deps, params), every out's hash. A directory
out is recorded as ``<md5>.dir``; its content id (the md5 without the suffix) is
:func:`dir_hash` of the directory: the MD5 of the JSON list of ``{"md5", "relpath"}`` of its
files, DVC's own formula, so a workspace directory can be checked against a lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pr2prod.fsio import file_md5

LOCK = "dvc.lock"
DIR_SUFFIX = ".dir"


def content_id(md5: str) -> str:
    """A recorded hash without ``.dir``: a directory's :func:`dir_hash`, a file's md5."""
    return md5.removesuffix(DIR_SUFFIX)


@dataclass(frozen=True)
class LockedOut:
    """One out of one stage, as ``dvc.lock`` records it."""

    stage: str
    path: str
    md5: str | None  # ``<md5>.dir`` for a directory

    @property
    def is_dir(self) -> bool:
        return bool(self.md5) and str(self.md5).endswith(DIR_SUFFIX)

    @property
    def content_id(self) -> str | None:
        """The md5 without ``.dir``: :func:`dir_hash` of a directory, the file's md5."""
        return content_id(self.md5) if self.md5 else None


class DvcLock:
    """A parsed ``dvc.lock`` (an empty one when the text is empty)."""

    def __init__(self, data: dict[str, Any] | None) -> None:
        stages = (data or {}).get("stages") or {}
        self.stages: dict[str, dict[str, Any]] = {
            str(name): body or {} for name, body in stages.items()
        }

    @classmethod
    def from_text(cls, text: str | None) -> DvcLock:
        return cls(yaml.safe_load(text or "") or {})

    @classmethod
    def from_path(cls, path: str | Path) -> DvcLock:
        """The lock at ``path``; an empty lock when there is no such file."""
        p = Path(path)
        return cls.from_text(p.read_text(encoding="utf-8") if p.is_file() else None)

    def outs(self, stage: str | None = None) -> Iterator[LockedOut]:
        """Every out (of ``stage`` only, when given), in the lock's order."""
        for name, body in self.stages.items():
            if stage is None or name == stage:
                for out in body.get("outs") or []:
                    md5 = out.get("md5")
                    yield LockedOut(name, str(out.get("path")), str(md5) if md5 else None)

    def out(self, path: str, stage: str | None = None) -> LockedOut | None:
        """The out entry for ``path`` (of ``stage``, when given); None when none records it."""
        return next((o for o in self.outs(stage) if o.path == path), None)

    def producing_stage(self, path: str) -> str | None:
        """Name of the stage whose outs include ``path``."""
        found = self.out(path)
        return found.stage if found else None

    def stage_inputs(self, path: str) -> dict[str, Any] | None:
        """The ``deps`` and ``params`` of the stage that writes ``path``."""
        name = self.producing_stage(path)
        if name is None:
            return None
        body = self.stages[name]
        return {"deps": body.get("deps"), "params": body.get("params")}

    def params(self, stage: str, params_file: str = "params.yaml") -> dict[str, Any]:
        """The values of ``params_file`` that ``stage`` records (empty when none)."""
        return dict((self.stages.get(stage, {}).get("params") or {}).get(params_file) or {})


def out_md5(lock_text: str | None, path: str) -> str | None:
    """The hash a lock text records for the out at ``path`` (``<md5>.dir`` for a directory)."""
    found = DvcLock.from_text(lock_text).out(path)
    return found.md5 if found else None


def out_id(lock_text: str | None, path: str) -> str | None:
    """The content id a lock text records for ``path`` (its md5 without ``.dir``)."""
    found = DvcLock.from_text(lock_text).out(path)
    return found.content_id if found else None


def dir_listing(text: str) -> dict[str, str]:
    """``relpath -> md5`` of a ``<md5>.dir`` cache object (the JSON list DVC stores)."""
    return {str(e["relpath"]): str(e["md5"]) for e in json.loads(text)}


def dir_hash(directory: str | Path, relpaths: Iterable[str] | None = None) -> str:
    """DVC's hash of a directory (``dvc.lock``'s ``<md5>.dir`` without the suffix).

    Args:
        directory: the directory.
        relpaths: the files that count (default: every file under it). DVC lists them
            sorted by their ``/``-separated relative path as a string (``a-b`` before ``a/``).
    """
    root = Path(directory)
    if relpaths is None:
        relpaths = (p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    entries = [{"md5": file_md5(root / rel), "relpath": rel} for rel in sorted(relpaths)]
    digest = hashlib.md5(json.dumps(entries, sort_keys=True).encode(), usedforsecurity=False)
    return digest.hexdigest()
