"""Fixtures of the sweep tests: a prepared project and a loopback-only network namespace.

Tests skip, saying why, where Ray or the namespaces (``unshare``) cannot be had.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _project import make_project, repro


@pytest.fixture
def prepared_project(tmp_path: Path) -> Path:
    """A committed default project whose split ``dvc.lock`` records (``dvc repro prepare``)."""
    project = make_project(tmp_path / "proj")
    repro(project, "prepare")
    return project
