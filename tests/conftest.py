"""Shared fixtures: a trained default project, built once per test worker."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _project import make_project, repro


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed default project after a full ``dvc repro`` (read-only for tests)."""
    project = make_project(tmp_path_factory.mktemp("trained") / "proj")
    repro(project)
    return project


@pytest.fixture(scope="session")
def trained_model_dir(trained_project: Path) -> Path:
    """The default pipeline's artifact directory (``models/model``)."""
    return trained_project / "models" / "model"
