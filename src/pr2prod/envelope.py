"""The pinned numerical envelope every pipeline stage runs in: same inputs => same bytes.

Floating-point results depend on more than the code: how many threads split a reduction,
which SIMD kernel OpenBLAS, NumPy, MKL and oneDNN pick for *this* CPU. The envelope fixes
each of them through environment variables that the libraries read when they load, so
:func:`apply` must run before NumPy, SciPy or torch is imported (``pr2prod.stages``
calls it on import). Which factor matters was found by experiment: see
``docs/reproducibility.md`` and ``benchmarks/repro_factors.py``.

Two kinds of setting:

* **forced**: thread counts. An outer ``OMP_NUM_THREADS=8`` would change the bytes, so the
  envelope overrides it and records the outer value.
* **default**: kernel choices. An explicit setting wins and is recorded as such: some
  machines set ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` because older OpenBLAS builds
  compute wrong results or crash on their CPU, and that must never be overridden.

This module imports nothing numerical.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

from pr2prod.errors import PlatformError

OFF_VAR = "PR2PROD_ENVELOPE"  # "off" disables the envelope (experiments only)
EXIT_CODE = PlatformError.exit_code  # 4: the CPU cannot run the pinned kernels

# Forced: one thread everywhere, so no reduction is split differently on a bigger machine.
FORCED: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "BLIS_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "MKL_DYNAMIC": "FALSE",
}

# Defaults (an explicit setting wins): the AVX2+FMA code path, which every x86-64 CI runner
# has (x86-64-v3). Haswell is OpenBLAS's AVX2 kernel family.
KERNEL_DEFAULTS: dict[str, str] = {
    "OPENBLAS_CORETYPE": "Haswell",
    # NumPy's runtime dispatch: nothing above x86-64-v3 (AVX-512 loops round differently).
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    # torch: ATen's vectorised kernels, MKL's code path, oneDNN's ISA.
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_CBWR": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}

# Recorded when set, never changed: the machine's own correctness settings.
KEPT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# CPU flags the pinned kernels execute (Haswell kernel family = x86-64-v3).
REQUIRED_FLAGS = ("avx", "avx2", "fma", "bmi2")

_NUMERIC_MODULES = ("numpy", "scipy", "torch", "sklearn")


class EnvelopeError(PlatformError, RuntimeError):
    """The pinned envelope cannot run on this CPU (raised before any numeric import)."""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty when unreadable)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def check_cpu(machine: str, flags: set[str], explicit_coretype: bool) -> None:
    """Refuse, with a message instead of ``Illegal instruction``, a CPU the pin cannot run on.

    Raises:
        EnvelopeError: on x86-64 without AVX2/FMA when ``OPENBLAS_CORETYPE`` is not set
            explicitly by the machine.
    """
    if machine not in {"x86_64", "amd64", "AMD64"} or explicit_coretype or not flags:
        return
    missing = [f for f in REQUIRED_FLAGS if f not in flags]
    if missing:
        raise EnvelopeError(
            f"this CPU lacks {', '.join(missing)}, which the pinned numerical envelope "
            "(OpenBLAS Haswell kernels, x86-64-v3) needs. Set OPENBLAS_CORETYPE to a kernel "
            "this CPU runs (e.g. Prescott) to run anyway: results will then be numerically "
            "equivalent, not bit-identical, to dvc.lock (see docs/reproducibility.md)"
        )


def apply(environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, Any]:
    """Pin the envelope in ``environ`` (default ``os.environ``) and return what was set.

    Call before NumPy/SciPy/torch are imported; if one already is, thread counts still
    apply through threadpoolctl at :func:`facts` time, but the kernel choice may not, and
    the record says so (``late: true``).

    Raises:
        EnvelopeError: the CPU cannot run the pinned kernels (see :func:`check_cpu`).
    """
    env = os.environ if environ is None else environ
    if env.get(OFF_VAR, "").lower() == "off":
        return {"enabled": False}
    machine = platform.machine()
    explicit_coretype = "OPENBLAS_CORETYPE" in env
    check_cpu(machine, cpu_flags(), explicit_coretype)
    record: dict[str, Any] = {
        "enabled": True,
        "machine": machine,
        "late": any(m in sys.modules for m in _NUMERIC_MODULES),
        "forced": {},
        "kernel": {},
    }
    for name, value in FORCED.items():
        record["forced"][name] = {"value": value, "outer": env.get(name)}
        env[name] = value
    x86 = machine in {"x86_64", "amd64", "AMD64"}
    for name, value in KERNEL_DEFAULTS.items():
        if name in env:
            record["kernel"][name] = {"value": env[name], "source": "explicit"}
        elif x86:
            env[name] = value
            record["kernel"][name] = {"value": value, "source": "envelope"}
    for name in KEPT:
        if name in env and name not in record["kernel"]:
            record["kernel"][name] = {"value": env[name], "source": "explicit"}
    return record


def facts(record: dict[str, Any]) -> dict[str, Any]:
    """The envelope as it actually took effect (for ``reports/train/run.json``).

    Adds the libraries' own view (threadpoolctl: BLAS kernel and thread counts, torch's
    CPU capability and threads) and the platform, so a hash mismatch can be explained.
    """
    out = dict(record)
    out["platform"] = {
        "python": platform.python_version(),
        "libc": " ".join(platform.libc_ver()),
        "system": platform.system(),
    }
    try:
        from threadpoolctl import threadpool_info, threadpool_limits

        if record.get("enabled"):
            threadpool_limits(1)
        out["threadpools"] = [
            {k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for info in threadpool_info()
        ]
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        out["threadpools"] = []
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch"] = {
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(),
            "deterministic": torch.are_deterministic_algorithms_enabled(),
        }
    out["lock"] = lock_facts()
    return out


def lock_facts(root: str = ".") -> dict[str, Any]:
    """This Python's lock (path, digest) and the installed packages that differ from it."""
    from pr2prod.lockfile import environment_differences, lock_digest

    lock, differ = environment_differences(root)
    if not lock.exists():
        return {"path": str(lock), "digest": None, "differs": []}
    return {"path": str(lock), "digest": lock_digest(lock), "differs": [str(m) for m in differ]}
