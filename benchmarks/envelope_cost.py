"""What the pinned numerical envelope costs: train inside it vs outside it, one run.

The envelope runs every BLAS/OpenMP pool on one thread with the AVX2 kernels; outside it
the libraries use every core and the widest kernels the CPU has. Measured on a workload
big enough for threads to matter (synthetic data, 200k rows)::

    python benchmarks/envelope_cost.py

Writes ``benchmarks/results/envelope_cost.json`` (best of two runs each).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _project import env, make_project, run

RESULTS = Path(__file__).parent / "results" / "envelope_cost.json"
ROWS = 200_000
MODELS = {
    "hist_gradient_boosting": ["model=hist_gradient_boosting"],
    "logistic_regression": ["model=logistic_regression", "features=poly_select"],
}


def train_s(project: Path, extra: dict[str, str]) -> float:
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pr2prod.stages", "train"],
            cwd=project,
            env={**env(), **extra},
            check=True,
            capture_output=True,
        )
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in MODELS.items():
            data = ["data=synthetic", f"data.synthetic.n_rows={ROWS}", *overrides]
            project = make_project(Path(tmp) / name, data)
            run(["dvc", "repro", "validate"], project)
            inside = train_s(project, {})
            outside = train_s(project, {"PR2PROD_ENVELOPE": "off"})
            rows[name] = {
                "inside_envelope_s": round(inside, 2),
                "outside_envelope_s": round(outside, 2),
                "cost_ratio": round(inside / outside, 2),
            }
            print(
                f"{name:24s} inside {inside:6.2f} s  outside {outside:6.2f} s  "
                f"x{inside / outside:.2f}"
            )
    RESULTS.write_text(
        json.dumps({"rows": ROWS, "cpus": os.cpu_count(), "models": rows}, indent=2) + "\n"
    )
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
