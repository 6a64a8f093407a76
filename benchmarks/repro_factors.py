"""Which machine factors change the trained model's bytes? One command, by experiment.

For a scikit-learn model and the torch MLP, train once inside the pinned envelope (the
reference), then once per factor with only that factor changed, and report whether the
artifact hash moved and what training cost. Run by hand on a machine that does NOT set
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for correctness (or, to see their effect here, unset
both in that one command)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/repro_factors.py

Writes ``benchmarks/results/repro_factors.json``; ``docs/reproducibility.md`` holds the
table. Not a test: it changes kernel variables that tests must never touch.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "repro_factors.json"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))

from _project import make_project, run  # noqa: E402
from pr2prod.dvclock import dir_hash  # noqa: E402

MODELS = {"logistic_regression": [], "torch_mlp": ["model=torch_mlp", "model.max_epochs=5"]}
THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# factor -> environment changes (None = unset); each row changes one thing.
FACTORS: dict[str, dict[str, str | None]] = {
    "reference: pinned envelope": {},
    "outer threads = 2 (envelope on)": dict.fromkeys(THREADS, "2"),
    "another PYTHONHASHSEED": {"PYTHONHASHSEED": "12345"},
    "another locale (LC_ALL=C)": {"LC_ALL": "C", "LANG": "C"},
    "another working directory": {},  # handled below: a second project elsewhere
    "envelope off, 1 thread": {"PR2PROD_ENVELOPE": "off", **dict.fromkeys(THREADS, "1")},
    "envelope off, 2 threads": {"PR2PROD_ENVELOPE": "off", **dict.fromkeys(THREADS, "2")},
    "OpenBLAS kernel Prescott (SSE3)": {"OPENBLAS_CORETYPE": "Prescott"},
    "OpenBLAS kernel Sandybridge (AVX)": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "OpenBLAS kernel SkylakeX (AVX-512)": {"OPENBLAS_CORETYPE": "SkylakeX"},
    "OpenBLAS kernel Zen": {"OPENBLAS_CORETYPE": "Zen"},
    "OPENBLAS_L2_SIZE=2048": {"OPENBLAS_L2_SIZE": "2048"},
    "NumPy AVX-512 dispatch allowed": {"NPY_DISABLE_CPU_FEATURES": ""},
    "torch ATen AVX-512 kernels": {"ATEN_CPU_CAPABILITY": "avx512"},
    "torch ATen default kernels": {"ATEN_CPU_CAPABILITY": "default"},
    "MKL code path auto": {"MKL_CBWR": "AUTO"},
    "oneDNN all ISAs": {"ONEDNN_MAX_CPU_ISA": "ALL"},
}


def train(project: Path, changes: dict[str, str | None]) -> tuple[str | None, float, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pr2prod.stages", "train"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        return None, wall, (proc.stderr.strip().splitlines() or ["?"])[-1]
    return dir_hash(project / "models" / "model"), wall, ""


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model, overrides in MODELS.items():
            projects = []
            for where in ("a", "elsewhere/deeper/b"):
                project = make_project(Path(tmp) / model / where / "proj", overrides)
                run(["dvc", "repro", "validate"], project)
                projects.append(project)
            reference, _, _ = train(projects[0], {})
            for factor, changes in FACTORS.items():
                project = projects[1] if factor == "another working directory" else projects[0]
                digest, wall, error = train(project, changes)
                rows.append(
                    {
                        "model": model,
                        "factor": factor,
                        "changes": changes,
                        "md5": digest,
                        "changed_hash": digest != reference,
                        "error": error,
                        "train_wall_s": round(wall, 2),
                    }
                )
                flag = "ERROR " + error if error else ("CHANGED" if digest != reference else "same")
                print(f"{model:20s} {factor:38s} {flag:8s} {wall:6.2f}s", flush=True)
            shutil.rmtree(Path(tmp) / model, ignore_errors=True)
    outer = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"machine": platform.machine(), "outer_kernel_env": outer, "rows": rows}, indent=2
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"-> {RESULTS}")


if __name__ == "__main__":
    main()
