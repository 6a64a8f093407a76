"""The lock: ``requirements/py3.X.lock``, exact versions of every package with hashes.

``pyproject.toml`` declares compatible ranges; the lock (``make lock``: uv resolves, pip
installs with ``--require-hashes``) fixes what a commit was built with. This module is the
one reader of it: which file belongs to this Python, its pins, its digest (recorded on the
model store entry and the Bento), the pins of the Bento's packages, and which installed
packages differ from it (``pr2prod verify-repro``).
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

LOCK_DIR = "requirements"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def python_tag(version: tuple[int, ...] | None = None) -> str:
    """``3.11``: the Python a lock is for (this interpreter's by default)."""
    major, minor = (version or sys.version_info)[:2]
    return f"{major}.{minor}"


def lock_path(root: str | Path = ".", python: str | None = None) -> Path:
    """``<root>/requirements/py3.X.lock`` for ``python`` (this interpreter's by default)."""
    return Path(root) / LOCK_DIR / f"py{python or python_tag()}.lock"


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name (``Scikit_Learn`` -> ``scikit-learn``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: str | Path) -> dict[str, str]:
    """``{canonical name: version}`` of every ``name==version`` line of a lock."""
    pins: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line)
        if m:
            pins[canonical(m.group(1))] = m.group(2)
    return pins


def lock_digest(path: str | Path) -> str:
    """SHA-256 of the lock file's bytes (hashes included): what the model was built with."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def pin(names: Iterable[str], pins: Mapping[str, str]) -> list[str]:
    """``name==version`` from the lock for each requirement name (extras kept: ``a[b]``).

    Raises:
        KeyError: a name the lock does not hold, naming it.
    """
    out = []
    for req in names:
        base = req.split("[", 1)[0].strip()
        version = pins.get(canonical(base))
        if version is None:
            raise KeyError(f"{req} is not in the lock: add it to pyproject.toml and `make lock`")
        out.append(f"{req}=={version}")
    return out


@dataclass(frozen=True)
class Mismatch:
    """One locked package whose installed version differs (``installed`` None: absent)."""

    name: str
    locked: str
    installed: str | None

    def __str__(self) -> str:
        return f"{self.name} {self.installed or 'absent'} (lock: {self.locked})"


def installed_version(name: str) -> str | None:
    try:
        return importlib_metadata.version(name)
    except importlib_metadata.PackageNotFoundError:
        return None


def mismatches(pins: Mapping[str, str], include_absent: bool = False) -> list[Mismatch]:
    """Installed packages whose version is not the lock's (absent ones only if asked: a base
    install lacks the extras' packages on purpose)."""
    out = []
    for name, locked in sorted(pins.items()):
        have = installed_version(name)
        if have is None and not include_absent:
            continue
        if have != locked:
            out.append(Mismatch(name, locked, have))
    return out


def environment_differences(root: str | Path = ".") -> tuple[Path, list[Mismatch]]:
    """This Python's lock under ``root`` and the installed packages that differ from it
    (none when the project has no lock)."""
    lock = lock_path(root)
    return lock, (mismatches(read_pins(lock)) if lock.exists() else [])
