"""Shared fixtures: a trained default project, built once per test worker."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _netns import netns_prefix
from _project import make_project, repro


@pytest.fixture(scope="session", autouse=True)
def bentoml_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away BentoML model/Bento store for this test session (never ~/bentoml)."""
    home = tmp_path_factory.mktemp("bentoml_home")
    os.environ["BENTOML_HOME"] = str(home)
    os.environ["BENTOML_DO_NOT_TRACK"] = "true"
    return home


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


@pytest.fixture(scope="session")
def netns() -> list[str]:
    """The command prefix that runs a command in fresh network + PID namespaces (Ray tests)."""
    pytest.importorskip("ray", reason="ray is not installed (pip install -e '.[ray]')")
    prefix, reason = netns_prefix()
    if prefix is None:
        pytest.skip(reason)
    return prefix


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short temp directory: Ray's Unix socket paths must stay under 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
