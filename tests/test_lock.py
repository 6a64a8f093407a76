"""The lock and the declared ranges agree; the Bento's packages come from the lock.

``pyproject.toml`` declares ranges, ``requirements/py3.X.lock`` the exact versions (with
hashes); ``bentofile.yaml`` names the service's packages and its Python, and the build pins
each from that Python's lock (:mod:`pr2prod.serving.lockpins`).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from pr2prod.lockfile import (
    Mismatch,
    canonical,
    environment_differences,
    lock_path,
    mismatches,
    read_pins,
)
from pr2prod.serving.lockpins import bentofile_python_version, pinned_python

pytestmark = [pytest.mark.unit]

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PYTHONS = ("3.11", "3.12", "3.13")
#: what each lock holds: 3.11 every extra (CI's environment), 3.12/3.13 base + test runner
LOCKED_EXTRAS = {"3.11": ("torch", "ray", "s3", "postgres", "test"), "3.12": ("test",)}
LOCKED_EXTRAS["3.13"] = LOCKED_EXTRAS["3.12"]


def _requirements(extras: tuple[str, ...]) -> list[Requirement]:
    reqs = [Requirement(r) for r in PYPROJECT["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in PYPROJECT["optional-dependencies"][extra]]
    return [r for r in reqs if canonical(r.name) != "pr2prod"]


@pytest.mark.parametrize("python", PYTHONS)
def test_each_lock_pins_every_declared_requirement_within_its_range(python: str) -> None:
    pins = read_pins(lock_path(ROOT, python))
    for req in _requirements(LOCKED_EXTRAS[python]):
        name = canonical(req.name)
        assert name in pins, f"{req.name} is declared but not in py{python}.lock: make lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"py{python}.lock pins {name}=={pins[name]} outside pyproject's {req}"
        )


@pytest.mark.parametrize("python", PYTHONS)
def test_every_pin_carries_a_hash(python: str) -> None:
    text = lock_path(ROOT, python).read_text(encoding="utf-8")
    blocks = [b for b in text.split("\n") if b and not b.startswith((" ", "#"))]
    assert blocks, "an empty lock"
    for line in blocks:
        assert "==" in line and line.endswith("\\"), f"{line!r}: no exact pin with hashes"


def test_the_base_locks_hold_no_torch_and_the_full_lock_the_cpu_build() -> None:
    assert read_pins(lock_path(ROOT, "3.11"))["torch"].endswith("+cpu")
    for python in ("3.12", "3.13"):
        pins = read_pins(lock_path(ROOT, python))
        assert not {"torch", "skorch", "ray", "psycopg", "dvc-s3"} & set(pins), python


def test_requires_python_admits_every_locked_python() -> None:
    spec = PYPROJECT["requires-python"]
    from packaging.specifiers import SpecifierSet

    for python in PYTHONS:
        assert SpecifierSet(spec).contains(f"{python}.0"), (python, spec)
    assert not SpecifierSet(spec).contains("3.14.0")


def test_bentofile_packages_come_from_the_lock_with_its_python() -> None:
    options = yaml.safe_load((ROOT / "bentofile.yaml").read_text(encoding="utf-8"))
    names = options["python"]["packages"]
    assert all("=" not in n and "<" not in n and ">" not in n for n in names), (
        "bentofile.yaml pins by hand; the lock is the one source of versions"
    )
    python = bentofile_python_version(options)
    assert python == PYPROJECT["requires-python"].split(">=")[1].split(",")[0]
    pins = read_pins(lock_path(ROOT, python))
    pinned, digest = pinned_python(options, ROOT)
    assert pinned["packages"] == [f"{n}=={pins[canonical(n)]}" for n in names]
    assert digest is not None and len(digest) == 64


def test_a_package_missing_from_the_lock_is_named(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "py3.11.lock").write_text("numpy==2.4.6 \\\n    --hash=x\n")
    options = {"docker": {"python_version": "3.11"}, "python": {"packages": ["numpy", "skops"]}}
    with pytest.raises(KeyError, match="skops is not in the lock"):
        pinned_python(options, tmp_path)


def test_installed_versions_are_compared_with_the_lock() -> None:
    from importlib.metadata import version

    pins = {"numpy": "0.0.1", "pytest": version("pytest"), "not-a-dist-xyz": "1.0"}
    assert mismatches(pins) == [Mismatch("numpy", "0.0.1", version("numpy"))]
    assert Mismatch("not-a-dist-xyz", "1.0", None) in mismatches(pins, include_absent=True)
    assert str(mismatches(pins)[0]) == f"numpy {version('numpy')} (lock: 0.0.1)"


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="CI's environment is 3.11's lock")
def test_this_environment_is_the_locks() -> None:
    lock, differ = environment_differences(ROOT)
    assert differ == [], f"installed packages differ from {lock} (make install): {differ}"


def test_the_envelope_record_names_packages_that_differ_from_the_lock(tmp_path: Path) -> None:
    from importlib.metadata import version

    from pr2prod.envelope import lock_facts

    lock = lock_path(tmp_path)
    lock.parent.mkdir()
    lock.write_text(f"numpy==0.0.1 \\\n    --hash=sha256:00\npytest=={version('pytest')}\n")
    facts = lock_facts(str(tmp_path))
    assert facts["differs"] == [f"numpy {version('numpy')} (lock: 0.0.1)"]
    assert facts["digest"] is not None and len(facts["digest"]) == 64
    assert lock_facts(str(tmp_path / "elsewhere"))["digest"] is None
