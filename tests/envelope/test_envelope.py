"""The numerical envelope: forced thread counts, kernel defaults, explicit settings kept.

These tests hand ``envelope.apply`` a *copy* of an environment; the real process
environment (and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in it) is never changed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pr2prod import envelope


def test_outer_thread_counts_are_overridden_and_recorded() -> None:
    env = {"OMP_NUM_THREADS": "8", "MKL_NUM_THREADS": "4"}
    record = envelope.apply(env)
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "1"
    assert record["forced"]["OMP_NUM_THREADS"] == {"value": "1", "outer": "8"}
    assert record["forced"]["OPENBLAS_NUM_THREADS"]["outer"] is None


def test_an_explicit_kernel_setting_wins_and_is_recorded() -> None:
    env = {"OPENBLAS_CORETYPE": "Prescott", "OPENBLAS_L2_SIZE": "512"}
    record = envelope.apply(env)
    assert env["OPENBLAS_CORETYPE"] == "Prescott"
    assert env["OPENBLAS_L2_SIZE"] == "512"
    assert record["kernel"]["OPENBLAS_CORETYPE"] == {"value": "Prescott", "source": "explicit"}
    assert record["kernel"]["OPENBLAS_L2_SIZE"] == {"value": "512", "source": "explicit"}


def test_unset_kernels_get_the_pinned_family_on_x86(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(envelope.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(envelope, "cpu_flags", lambda: {"avx", "avx2", "fma", "bmi2"})
    env: dict[str, str] = {}
    record = envelope.apply(env)
    assert env["OPENBLAS_CORETYPE"] == "Haswell"
    assert env["ATEN_CPU_CAPABILITY"] == "avx2"
    assert record["kernel"]["OPENBLAS_CORETYPE"]["source"] == "envelope"
    assert "OPENBLAS_L2_SIZE" not in env  # never invented, only kept


def test_a_cpu_without_avx2_gets_a_message_not_an_illegal_instruction() -> None:
    with pytest.raises(envelope.EnvelopeError, match="lacks avx2, fma"):
        envelope.check_cpu("x86_64", {"sse2", "avx"}, explicit_coretype=False)
    envelope.check_cpu("x86_64", {"sse2", "avx"}, explicit_coretype=True)  # machine knows best
    envelope.check_cpu("aarch64", {"asimd"}, explicit_coretype=False)  # no x86 kernel pinned


def test_arm64_pins_threads_but_no_x86_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(envelope.platform, "machine", lambda: "aarch64")
    env: dict[str, str] = {}
    record = envelope.apply(env)
    assert env["OMP_NUM_THREADS"] == "1"
    assert "OPENBLAS_CORETYPE" not in env
    assert record["machine"] == "aarch64"


def test_off_switch_leaves_the_environment_alone() -> None:
    env = {"PR2PROD_ENVELOPE": "off", "OMP_NUM_THREADS": "8"}
    assert envelope.apply(env) == {"enabled": False}
    assert env == {"PR2PROD_ENVELOPE": "off", "OMP_NUM_THREADS": "8"}


@pytest.mark.integration
def test_stage_runner_pins_before_numpy_and_libraries_obey() -> None:
    """A real stage process: the BLAS pools run one thread whatever the outer setting."""
    code = (
        "import sys; from pr2prod.stages.__main__ import envelope; "
        "r = envelope.apply(); import numpy; "
        "print(__import__('json').dumps(envelope.facts(r)))"
    )
    outer = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=outer, capture_output=True, text=True, check=True
    ).stdout
    facts = json.loads(out)
    assert facts["late"] is False
    blas = [p for p in facts["threadpools"] if p["internal_api"] == "openblas"]
    assert blas and all(p["num_threads"] == 1 for p in blas)
    # the machine's own kernel setting, if any, is what OpenBLAS runs
    expected = os.environ.get("OPENBLAS_CORETYPE", "Haswell")
    assert {p["architecture"].lower() for p in blas} == {expected.lower()}


@pytest.mark.integration
def test_runner_refuses_unknown_stage() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pr2prod.stages", "nope"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "usage: python -m pr2prod.stages {compose|prepare" in proc.stderr
