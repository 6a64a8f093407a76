"""Fixtures of the sweep tests: a prepared project and a loopback-only network namespace.

Tests skip, saying why, where Ray or the namespaces (``unshare``) cannot be had.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _netns import netns_prefix
from _project import make_project, repro


@pytest.fixture(scope="session")
def netns() -> list[str]:
    """The command prefix that runs a command in fresh network + PID namespaces."""
    pytest.importorskip("ray", reason="ray is not installed (pip install -e '.[ray]')")
    prefix, reason = netns_prefix()
    if prefix is None:
        pytest.skip(reason)
    return prefix


@pytest.fixture
def prepared_project(tmp_path: Path) -> Path:
    """A committed default project whose split ``dvc.lock`` records (``dvc repro prepare``)."""
    project = make_project(tmp_path / "proj")
    repro(project, "prepare")
    return project


@pytest.fixture
def short_tmp() -> Path:
    """A short temp directory: Ray's Unix socket paths must stay under 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="rs", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
