"""Fixtures of the command-line tests: a composed config in a temp directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from _project import BIN, ROOT, run

PR2PROD = str(BIN / "pr2prod")


@pytest.fixture
def composed(tmp_path: Path) -> Path:
    """A directory holding this repository's ``conf/`` and the ``params.yaml`` it composes."""
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    run([PR2PROD, "compose"], tmp_path)
    return tmp_path
