"""Small filesystem helpers shared by every layer: atomic writes and content hashes.

Atomic writes go through a sibling temporary named ``.<name>.<pid>.<random>.tmp``; one
left behind by a crashed process (its pid no longer running) is removed by the next write
to the same target. Files and directories get the permissions the umask allows
(``0o666``/``0o777`` minus the umask); ``private=True`` (files holding inputs: the
prediction log, reports with rows, scored rows) gives the owner alone access
(``0o600``/``0o700``) whatever the umask.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (read by setting it and putting it back, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def file_mode(private: bool = False) -> int:
    """Mode of a new file: owner-only when ``private``, else ``0o666`` minus the umask."""
    return 0o600 if private else 0o666 & ~current_umask()


def create_private_file(path: str | Path) -> bool:
    """Create ``path`` empty and owner-only (``0o600``, whatever the umask) if it does not
    exist; return whether it was created. An existing file (or one another process creates
    first) is left as it is; a missing or unwritable parent directory is not an error here
    (returns False: whoever opens the file next reports it).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return False
    try:
        os.fchmod(fd, 0o600)  # the umask only removes bits; this sets exactly the owner's
    finally:
        os.close(fd)
    return True


def _make_private(root: Path) -> None:
    """Every file under ``root`` ``0o600`` and every directory ``0o700`` (links skipped)."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            if not os.path.islink(os.path.join(dirpath, name)):
                os.chmod(os.path.join(dirpath, name), 0o700)
        for name in filenames:
            if not os.path.islink(os.path.join(dirpath, name)):
                os.chmod(os.path.join(dirpath, name), 0o600)


def _tmp_prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(target: str | Path) -> list[Path]:
    """Remove temporaries of ``target`` (``.<name>.<pid>.*.tmp`` / ``.old``) whose process
    is gone; return what was removed. A live writer's temporaries are left alone."""
    t = Path(target)
    removed: list[Path] = []
    if not t.parent.is_dir():
        return removed
    for entry in t.parent.glob(f".{t.name}.*"):
        parts = entry.name[len(t.name) + 2 :].split(".")
        if len(parts) < 3 or parts[-1] not in ("tmp", "old") or not parts[0].isdigit():
            continue
        if _pid_alive(int(parts[0])):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def atomic_write_text(path: str | Path, text: str, private: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    atomic_write_bytes(path, text.encode("utf-8"), private=private)


def atomic_write_bytes(path: str | Path, data: bytes, private: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    The file gets :func:`file_mode` (the umask's, or owner-only when ``private``).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_tmp_prefix(target), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, file_mode(private))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, data: Any) -> None:
    """Atomically write stable, human-readable JSON (sorted keys, trailing newline)."""
    atomic_write_text(path, json_text(data))


def json_text(data: Any) -> str:
    """The text :func:`write_json` writes: ``json.dumps(data, indent=2, sort_keys=True,
    default=str)`` and a newline.

    A list of records (e.g. a plot table of one row per test row) is encoded record by
    record, and a record whose values are all text is encoded once however often it
    repeats: the same characters, without the pure-Python encoder's (``indent`` turns the C
    one off) millions of small pieces held until the join.
    """
    if not (isinstance(data, list) and data and all(type(r) is dict for r in data)):
        return json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    seen: dict[tuple[tuple[Any, str], ...], str] = {}
    parts = []
    for record in data:
        text_only = all(type(k) is str and type(v) is str for k, v in record.items())
        key = tuple(record.items()) if text_only else None
        text = seen.get(key) if key is not None else None
        if text is None:
            text = json.dumps(record, indent=2, sort_keys=True, default=str)
            text = "\n".join("  " + line for line in text.split("\n"))
            if key is not None:
                seen[key] = text
        parts.append(text)
    return "[\n" + ",\n".join(parts) + "\n]\n"


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


@contextmanager
def atomic_dir(path: str | Path, private: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling directory that replaces ``path`` only on success.

    A failure inside the block leaves the previous ``path`` untouched. The previous ``path``
    is moved aside under a name of this call's own and only that is deleted: nothing this
    call did not create or move is removed (a symlink at ``path`` is replaced as a link; what
    it points to is left alone). Leftovers of a crashed run are cleaned first.

    ``private=True`` (a directory of rows): the temporary directory is ``0o700`` from its
    creation, and whatever the block wrote in it is made ``0o600`` (files) and ``0o700``
    (directories) before the rename, whatever the umask and whichever library wrote it.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=_tmp_prefix(target), suffix=".tmp"))
    tmp.chmod(0o700 if private else 0o777 & ~current_umask())
    try:
        yield tmp
        if private:
            _make_private(tmp)
        old: Path | None = None
        if target.exists() or target.is_symlink():
            prefix = _tmp_prefix(target)
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=prefix, suffix=".old"))
            old.rmdir()  # a unique name of our own; the previous output is renamed onto it
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            if old.is_symlink() or not old.is_dir():
                old.unlink()
            else:
                shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def file_md5(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
