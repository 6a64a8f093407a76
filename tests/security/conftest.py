"""Fixtures of the security regression suite: a project copy to attack, and its fingerprint.

Every payload writes :func:`marker` (outside the project) when it runs. Each test asserts the
marker is absent and that ``params.yaml``, ``dvc.lock`` and ``models/`` are byte-for-byte what
they were before the attack (:func:`fingerprint`).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pr2prod.config.compose import reconcile

ROOT = Path(__file__).resolve().parents[2]
GUARDED = ("params.yaml", "dvc.lock", "models")


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """Where a payload leaves its mark when it runs (outside the project)."""
    return tmp_path / "outside" / "pwned"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory outside the project holding a file nobody may delete."""
    d = tmp_path / "outside"
    d.mkdir(exist_ok=True)
    (d / "keep.txt").write_text("mine")
    return d


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of this repository's conf/, pyproject.toml (the trust policy) and dvc.lock, a
    composed params.yaml and a stand-in models/; the current directory for the test."""
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copytree(ROOT / "conf", proj / "conf")
    shutil.copy2(ROOT / "pyproject.toml", proj / "pyproject.toml")
    shutil.copy2(ROOT / "dvc.lock", proj / "dvc.lock")
    (proj / "models" / "model").mkdir(parents=True)
    (proj / "models" / "model" / "model.skops").write_bytes(b"trained bytes")
    monkeypatch.chdir(proj)
    reconcile(proj / "conf", proj / "params.yaml")
    return proj


def _fingerprint(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in GUARDED:
        path = root / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            out[f.relative_to(root).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


@pytest.fixture
def fingerprint() -> Callable[[Path], dict[str, str]]:
    """``params.yaml``, ``dvc.lock`` and every file under ``models/``, hashed."""
    return _fingerprint
