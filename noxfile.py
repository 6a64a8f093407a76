"""The unit tests on every supported Python this machine has (3.11, 3.12, 3.13).

Each session installs its Python's lock (``requirements/py3.X.lock``: exact versions with
hashes; 3.11's holds every extra, 3.12's and 3.13's the base install and the test runner,
no torch), then pr2prod itself without dependencies, and runs the modules that declare the
``unit`` tier: a unit test needs the base install only.

    nox -s tests                 # every Python present
    nox -s tests -p 3.12         # one
    python noxfile.py            # prints the Pythons present other than this one (.ci/run)

pyenv's shims answer ``python3.12`` with an error unless that version is selected, so the
interpreters are found by running them, and pyenv's own directories are looked in too.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
SUPPORTED = ("3.11", "3.12", "3.13")  # pyproject.toml's requires-python
LOCKS = ROOT / "requirements"

nox.options.sessions = ["tests"]
nox.options.error_on_missing_interpreters = False


def _runs(python: str) -> bool:
    try:
        return (
            subprocess.run(
                [python, "-c", "pass"], capture_output=True, timeout=60, check=False
            ).returncode
            == 0
        )
    except OSError:
        return False


def find_interpreter(version: str) -> str | None:
    """A ``python3.X`` executable that runs, on PATH or among pyenv's versions."""
    home = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [
        f"python{version}",
        *sorted(glob.glob(f"{home}/versions/{version}.*/bin/python{version}")),
    ]
    for candidate in candidates:
        if _runs(candidate):
            return candidate
    return None


def present() -> dict[str, str]:
    """Supported versions -> the interpreter that runs them here."""
    found = {v: find_interpreter(v) for v in SUPPORTED}
    return {v: p for v, p in found.items() if p}


PRESENT = present()
# nox looks interpreters up by name on PATH: put each one that runs first.
os.environ["PATH"] = os.pathsep.join(
    [
        *dict.fromkeys(str(Path(p).parent) for p in PRESENT.values() if os.sep in p),
        os.environ.get("PATH", ""),
    ]
)


def unit_test_files() -> list[str]:
    """Test modules that declare the unit tier (they import the base install only)."""
    return sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "tests").rglob("test_*.py")
        if "pytest.mark.unit" in p.read_text(encoding="utf-8")
    )


@nox.session(python=list(PRESENT))
def tests(session: nox.Session) -> None:
    """Install from this Python's lock, then run the unit tests."""
    session.env.pop("PYTHONPATH", None)
    session.install("--require-hashes", "-r", str(LOCKS / f"py{session.python}.lock"))
    session.install("--no-deps", ".")
    session.run(
        "pytest", "-m", "unit", "-q", "-p", "no:cacheprovider", *unit_test_files(), *session.posargs
    )


if __name__ == "__main__":
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    print(" ".join(v for v in PRESENT if v != here))
