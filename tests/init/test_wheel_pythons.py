"""The wheel on Python 3.12 (3.13 on request), from its lock, without torch: init, repro, tests.

A new virtual environment of that Python gets ``requirements/py3.X.lock`` (the base install
and the test runner, exact versions with hashes: no torch, no Ray) and then the wheel with
``--no-deps``: what a team on that Python installs. From it, ``pr2prod init --defaults`` ->
``dvc repro`` -> the generated project's own tests; and a torch config fails at compose,
naming the extra. A Python this machine lacks is skipped, saying so.

The wheel comes from the ``wheel`` fixture of ``test_wheel.py`` (one build per module).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_wheel import STAGES, Wheel, all_passed, wheel  # noqa: F401  (the wheel fixture, reused)

from _project import BIN, env
from pr2prod.errors import EXIT_USAGE
from pr2prod.init.cache import CACHE_VAR
from pr2prod.lockfile import lock_path

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("init_wheel")]

ROOT = Path(__file__).resolve().parents[2]


def find_python(version: str) -> str | None:
    """A ``python3.X`` that runs: on PATH, or among pyenv's versions (its shims refuse an
    unselected version)."""
    home = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for candidate in [
        *sorted(glob.glob(f"{home}/versions/{version}.*/bin/python{version}")),
        shutil.which(f"python{version}"),
    ]:
        if candidate and subprocess.run([candidate, "-c", "pass"], check=False).returncode == 0:
            return candidate
    return None


def _run(args: list[str], cwd: Path, e: dict[str, str], timeout: float = 900) -> str:
    proc = subprocess.run(
        args, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


#: 3.12 always; 3.13 too with PR2PROD_E2E_PYTHONS="3.12 3.13" (.ci/run's nox run installs
#: the 3.12 and 3.13 locks and runs the unit tests on each; each install costs minutes)
VERSIONS = os.environ.get("PR2PROD_E2E_PYTHONS", "3.12").split()


@pytest.mark.parametrize("version", VERSIONS)
def test_the_wheel_on_a_newer_python_from_its_lock_without_torch(
    version: str,
    wheel: Wheel,  # noqa: F811  (test_wheel's fixture; a session-wide one may replace it)
    tmp_path: Path,
) -> None:
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300)
    e = env()
    keep = [
        d
        for d in e["PATH"].split(os.pathsep)
        if d and Path(d).resolve() != BIN.resolve() and not (Path(d) / "pr2prod").exists()
    ]
    e.update(
        PATH=os.pathsep.join([str(venv / "bin"), *keep]),
        VIRTUAL_ENV=str(venv),
        PYTHONPATH="",  # this checkout must not win: the wheel's pr2prod runs
        BENTOML_HOME=str(tmp_path / "bentoml"),
        **{CACHE_VAR: str(tmp_path / "template-cache")},
    )
    vpy = str(venv / "bin" / "python")
    lock = lock_path(ROOT, version)
    _run([vpy, "-m", "pip", "install", "-q", "--require-hashes", "-r", str(lock)], tmp_path, e)
    _run([vpy, "-m", "pip", "install", "-q", "--no-deps", str(wheel.path)], tmp_path, e)
    probe = "import importlib.util as u, sys; print(sys.version_info[:2], u.find_spec('torch'))"
    assert _run([vpy, "-c", probe], tmp_path, e).strip() == f"({version.replace('.', ', ')}) None"

    _run(["pr2prod", "init", "proj", "--defaults"], tmp_path, e, timeout=300)
    project = tmp_path / "proj"
    out = _run(["dvc", "repro"], project, e)
    ran = [ln.split("'")[1] for ln in out.splitlines() if ln.startswith("Running stage '")]
    assert ran == list(STAGES), out
    assert json.loads((project / "metrics/metrics.json").read_text())["roc_auc"] > 0.9
    tests = _run(["make", "test-fast"], project, e)
    all_passed(tests, least=1)  # the unit tier: the project's own unit test

    refused = subprocess.run(
        ["pr2prod", "compose", "model=torch_mlp"],
        cwd=project,
        env=e,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert refused.returncode == EXIT_USAGE, refused.stdout + refused.stderr
    assert "model=torch_mlp needs `pip install 'pr2prod[torch]'`" in refused.stderr
