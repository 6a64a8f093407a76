"""Shared fixtures and the test tiers.

Tiers (tests/_tiers.py): every test is marked ``unit``, ``integration`` or ``e2e`` at collection
time from its explicit mark, the fixtures it requests and its legacy marks; a ``unit`` test that
starts a process or a server fails. ``make test-fast`` runs ``-m unit``.

Costly fixtures are built once per test run, not once per xdist worker: the first worker to
need one builds it under a file lock in the run's shared temp directory (the parent of every
worker's basetemp); the others wait for it and use it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from filelock import FileLock

sys.path.insert(0, str(Path(__file__).parent))

from _netns import netns_prefix
from _project import make_project, repro
from _scheduling import pytest_xdist_make_scheduler  # noqa: F401 - xdist's work units
from _tiers import (  # noqa: F401 - the tier hooks, registered by being in this conftest
    pytest_collection_modifyitems,
    pytest_runtest_call,
    pytest_runtest_setup,
)

pytest_plugins = ["pytester"]  # tests/tiers/ runs small pytest sessions in-process


def _shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory every xdist worker of this run shares (the basetemp without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """``build(dest)`` once per test run under a file lock; later callers get ``dest``.

    A failed build is recorded: the other workers fail at once with its error instead of
    building again.
    """
    shared = _shared_dir(tmp_path_factory)
    dest = shared / name
    done, failed = shared / f"{name}.done", shared / f"{name}.failed"
    with FileLock(str(shared / f"{name}.lock")):
        if failed.exists():
            pytest.fail(f"building {name} failed in another worker:\n{failed.read_text()}")
        if not done.exists():
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            try:
                build(dest)
            except BaseException as exc:
                failed.write_text(f"{type(exc).__name__}: {exc}"[-8000:])
                raise
            done.touch()
    return dest


@pytest.fixture(scope="session", autouse=True)
def bentoml_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away BentoML model/Bento store for this test run (never ~/bentoml).

    One per run, shared by the workers: the trained project's Bento, built by one worker,
    is in the store every worker reads.
    """
    home = _shared_dir(tmp_path_factory) / "bentoml_home"
    home.mkdir(parents=True, exist_ok=True)
    os.environ["BENTOML_HOME"] = str(home)
    os.environ["BENTOML_DO_NOT_TRACK"] = "true"
    return home


def _train(dest: Path) -> None:
    repro(make_project(dest / "proj"))


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory, bentoml_home: Path) -> Path:
    """A committed default project after a full ``dvc repro`` (read-only for tests).

    Trained once per test run; each worker gets its own copy (DVC commands that only read
    still take the repository's lock), next to the shared DVC remote. Copy it again
    (``shutil.copytree(..., symlinks=True)``) before writing to it.
    """
    built = build_once(tmp_path_factory, "trained", _train) / "proj"
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return built
    copy = tmp_path_factory.mktemp("trained") / "proj"
    shutil.copytree(built, copy, symlinks=True)
    return copy


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
