"""Wall time of the default pipeline: full and no-op `dvc repro`, per stage, imports.

The floor for a no-op run is `dvc status` on the same repo (DVC must at least hash-check the
pipeline); the goals are no-op/floor <= 1.3 and full/no-op <= 8 (the inner loop costs the
work, not the imports), measured in one run. Per stage: its wall time inside `dvc repro`
(one `dvc repro --single-item` each, in pipeline order) and the time to import its module
in a fresh interpreter (what every run of it pays before working).

    python benchmarks/pipeline.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _project import make_project, run

RESULTS = Path(__file__).parent / "results" / "pipeline.json"


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    run(cmd, cwd)
    return time.perf_counter() - start


STAGES = ("compose", "prepare", "validate", "train", "evaluate", "gate", "package")


def import_time(stage: str, cwd: Path) -> float:
    """Seconds to start Python and import the stage module (envelope applied first)."""
    code = f"import pr2prod.stages.__main__ as m; m.envelope.apply(); import pr2prod.stages.{stage}"
    return timed([sys.executable, "-c", code], cwd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp) / "proj")
        full = timed(["dvc", "repro"], project)
        noop = [timed(["dvc", "repro"], project) for _ in range(args.repeats)]
        stages = {}
        for stage in STAGES:
            stages[stage] = {
                "wall_s": round(timed(["dvc", "repro", "-f", "-s", stage], project), 3),
                "import_s": round(min(import_time(stage, project) for _ in range(3)), 3),
            }
        # the same pipeline file `dvc repro` reproduces (pipelines/ holds others)
        status = [timed(["dvc", "status", "dvc.yaml"], project) for _ in range(args.repeats)]
    result = {
        "full_repro_s": round(full, 3),
        "noop_repro_s": round(statistics.median(noop), 3),
        "status_floor_s": round(statistics.median(status), 3),
        "noop_over_floor": round(statistics.median(noop) / statistics.median(status), 3),
        "full_over_noop": round(full / statistics.median(noop), 2),
        "stages": stages,
        "goals": {"noop_over_floor_max": 1.3, "full_over_noop_max": 8, "full_repro_max_s": 30},
        "repeats": args.repeats,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"full dvc repro     {result['full_repro_s']:7.2f} s   (goal < 30 s)")
    print(f"no-op dvc repro    {result['noop_repro_s']:7.2f} s")
    print(f"dvc status (floor) {result['status_floor_s']:7.2f} s")
    print(f"no-op / floor      {result['noop_over_floor']:7.2f} x  (goal <= 1.3)")
    print(f"full / no-op       {result['full_over_noop']:7.2f} x  (goal <= 8)")
    for stage, t in stages.items():
        print(f"  {stage:9s} wall {t['wall_s']:6.2f} s   import {t['import_s']:6.2f} s")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
