"""The Bento's Python packages, pinned from the lock (``requirements/py3.X.lock``).

``bentofile.yaml`` names the service's distributions without versions and sets
``docker.python_version``; the versions come from that Python's lock, the one source of
exact versions, so nothing is copied by hand. A project without a lock keeps
``bentofile.yaml``'s requirements as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pr2prod.lockfile import lock_digest, lock_path, pin, read_pins


def bentofile_python_version(options: dict[str, Any]) -> str | None:
    """``docker.python_version`` of a parsed ``bentofile.yaml`` (None when unset)."""
    docker = options.get("docker") or {}
    version = docker.get("python_version")
    return str(version) if version is not None else None


def pinned_python(options: dict[str, Any], root: Path) -> tuple[dict[str, Any], str | None]:
    """``bentofile.yaml``'s ``python`` section with each package pinned from the lock under
    ``root`` for its ``docker.python_version``, and the lock's digest (None without a lock).

    Raises:
        KeyError: a package the lock does not hold, naming it.
    """
    python = dict(options.get("python") or {})
    lock = lock_path(root, bentofile_python_version(options))
    if not lock.exists():
        return python, None
    python["packages"] = pin(python.get("packages") or [], read_pins(lock))
    return python, lock_digest(lock)


def installed_lock_digest(root: Path) -> str | None:
    """Digest of this Python's lock under ``root`` (None without one)."""
    lock = lock_path(root)
    return lock_digest(lock) if lock.exists() else None
