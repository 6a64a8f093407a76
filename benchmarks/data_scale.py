"""The whole pipeline on synthetic data at 1 M and 10 M rows, stage by stage, gate included.

For each ``--rows`` N (and each code variant: this checkout's ``src/``, plus
``--baseline-src`` when given), a throw-away project (``tests/_project.py``; never this
checkout) is composed with ``data=synthetic data.synthetic.n_rows=N`` and
``model=hist_gradient_boosting``; its ``src/`` is the variant's, which every stage imports
(``PYTHONPATH``). Then, one ``dvc repro --single-item <stage>`` at a time:

1. ``prepare`` and ``validate`` (measured);
2. production: ``train`` with ``model.max_iter=10`` (set-up, recorded apart), committed on
   ``main``, so ``gate.baseline.ref=main`` finds a real baseline in the DVC cache;
3. the candidate (``model.max_iter=100``, the option's default), as a pull request would
   change it: ``train``, ``evaluate``, ``gate`` (against production: both models scored)
   and ``package`` (measured).

With ``--baseline-src`` the two variants take turns stage by stage (new prepare, baseline
prepare, new validate, ...), so each pair is measured under the same machine load.

Each stage runs in a fresh wrapper process: wall time, and peak RSS as
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the largest single process under it: the stage's
Python process, or DVC's own when larger). The table's in-memory size is pandas'
``memory_usage(deep=True).sum()`` of the prepared train + test, read back in a subprocess.
Ratios, measured in the same run: each non-train stage's time / the candidate's train time,
each stage's peak RSS / the table's size. The md5 of every output of both variants is
recorded, so a run shows whether the new code writes the same bytes.

Goals at 10 M rows (issue 23): every stage but train <= 0.5x train's time, the gate with
a baseline included; no stage but train above 2x the table's size.

Run: ``python benchmarks/data_scale.py [--rows 1000000 10000000] [--baseline-src DIR]``
(``DIR`` holds another checkout's ``src``: ``git archive main src | tar -x -C DIR/..``);
writes benchmarks/results/data_scale.json, keeping the entries of row counts not rerun.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks/results/data_scale.json"
SRC = ROOT / "src"
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]

from _project import BIN, env, make_project  # noqa: E402

WRAP = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,\n"
    "                   text=True)\n"
    "dt = time.perf_counter() - t\n"
    "print(r.stdout)\n"
    "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(f'BENCH {dt} {kb} {r.returncode}')\n"
)
TABLE = (
    "import sys, pandas as pd\n"
    "print(sum(int(pd.read_parquet(p).memory_usage(deep=True).sum()) for p in sys.argv[1:]))\n"
)
BASE = ["data=synthetic", "model=hist_gradient_boosting"]
PRODUCTION = ["model.max_iter=10"]
CANDIDATE = ["model.max_iter=100"]
STAGES = ("prepare", "validate", "train", "evaluate", "gate", "package")
OUTPUTS = (
    "data/prepared/train.parquet",
    "data/prepared/test.parquet",
    "data/prepared/schema.json",
    "reports/validation.json",
    "metrics/metrics.json",
    "metrics/gate.json",
    "plots/confusion.json",
    "plots/roc.json",
    "plots/pr.json",
    "plots/calibration.json",
)
GOALS = {"other_stage_over_train_max": 0.5, "peak_rss_over_table_max": 2.0}
GIB = 2**30


def variant_env(src: Path, home: Path) -> dict[str, str]:
    e = env()
    e["PYTHONPATH"] = str(src)
    e["BENTOML_HOME"] = str(home)
    e["BENTOML_DO_NOT_TRACK"] = "true"
    return e


def call(cmd: list[str], cwd: Path, e: dict[str, str], timeout: float = 3600) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stderr[-3000:]}")
    return proc.stdout


def stage(project: Path, name: str, e: dict[str, str]) -> dict:
    """Wall seconds and peak RSS (GiB) of ``dvc repro -s <name>``, in a fresh wrapper."""
    cmd = [sys.executable, "-c", WRAP, str(BIN / "dvc"), "repro", "--single-item", name]
    out = call(cmd, project, e)
    _, wall, kb, rc = out.strip().splitlines()[-1].split()
    if rc != "0":
        raise RuntimeError(f"dvc repro -s {name} exited {rc}\n{out[-3000:]}")
    res = {"wall_s": round(float(wall), 2), "peak_rss_gib": round(int(kb) / 2**20, 3)}
    print(f"    {name:9s} {res['wall_s']:8.2f} s  {res['peak_rss_gib']:6.2f} GiB", flush=True)
    return res


def md5(path: Path) -> str:
    h = hashlib.md5()  # a content fingerprint, as DVC's
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pipeline(work: Path, rows: int, tag: str, src: Path) -> Generator[dict, None, dict]:
    """Every stage of one variant on ``rows`` rows; production committed before the gate.

    Yields the stages measured so far after each one (the caller saves them, so a run cut
    short keeps them, and interleaves the variants stage by stage); returns the result.
    """
    e = variant_env(src, work / f"bentoml-{tag}")
    project = work / f"{tag}-{rows}"
    make_project(project, [*BASE, f"data.synthetic.n_rows={rows}", *PRODUCTION], commit=False)
    shutil.rmtree(project / "src")  # the code dvc.yaml tracks is the code that runs
    shutil.copytree(src, project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    call(["git", "add", "-A"], project, e)
    call(["git", "commit", "-qm", "init project"], project, e)
    print(f"  {tag} ({src}), {rows:,} rows", flush=True)
    stages: dict[str, dict] = {}
    for name in ("prepare", "validate"):
        stages[name] = stage(project, name, e)
        yield {"partial": True, "stages": stages}
    parts = [str(project / "data/prepared" / f) for f in ("train.parquet", "test.parquet")]
    table = int(call([sys.executable, "-c", TABLE, *parts], project, e).strip())
    yield {"partial": True, "table_in_memory_gib": round(table / GIB, 3), "stages": stages}
    production_train = stage(project, "train", e)
    yield {"partial": True, "table_in_memory_gib": round(table / GIB, 3), "stages": stages}
    call(["git", "add", "-A"], project, e)
    call(["git", "commit", "-qm", "production"], project, e)
    call([str(BIN / "pr2prod"), "compose", *CANDIDATE], project, e)
    for name in ("train", "evaluate", "gate", "package"):
        stages[name] = stage(project, name, e)
        yield {"partial": True, "table_in_memory_gib": round(table / GIB, 3), "stages": stages}
    gate = json.loads((project / "reports/gate.json").read_text(encoding="utf-8"))
    if gate.get("baseline") is None:
        raise RuntimeError(f"the gate ran without a baseline: {gate.get('baseline_reason')}")
    train_s = stages["train"]["wall_s"]
    table_gib = table / GIB
    result = {
        "table_in_memory_gib": round(table_gib, 3),
        "stages": stages,
        "production_train_max_iter_10": production_train,
        "gate_verdict": gate["verdict"],
        "gate_baseline": gate["baseline"].get("md5"),
        "output_md5": {p: md5(project / p) for p in OUTPUTS if (project / p).exists()},
        "ratios": {
            "time_over_train": {
                n: round(s["wall_s"] / train_s, 3) for n, s in stages.items() if n != "train"
            },
            "peak_rss_over_table": {
                n: round(s["peak_rss_gib"] / table_gib, 3) for n, s in stages.items()
            },
        },
    }
    others = {n: s for n, s in stages.items() if n != "train"}
    result["ratios"]["others_total_over_train"] = round(
        sum(s["wall_s"] for s in others.values()) / train_s, 3
    )
    result["goals_met"] = {
        "time": all(
            r <= GOALS["other_stage_over_train_max"]
            for r in result["ratios"]["time_over_train"].values()
        ),
        "memory": all(
            result["ratios"]["peak_rss_over_table"][n] <= GOALS["peak_rss_over_table_max"]
            for n in others
        ),
    }
    shutil.rmtree(project, ignore_errors=True)
    shutil.rmtree(work / f"{tag}-{rows}-remote", ignore_errors=True)
    return result


def rss(res: dict, name: str) -> float:
    return res["stages"][name]["peak_rss_gib"]


def show(rows: int, tag: str, res: dict) -> None:
    print(f"{tag} at {rows:,} rows: table {res['table_in_memory_gib']:.2f} GiB in memory")
    for name, s in res["stages"].items():
        t = res["ratios"]["time_over_train"].get(name)
        m = res["ratios"]["peak_rss_over_table"][name]
        share = f"{t:5.2f}x train" if t is not None else "           "
        print(
            f"  {name:9s} {s['wall_s']:8.2f} s  {share}   {s['peak_rss_gib']:6.2f} GiB  "
            f"{m:5.2f}x table"
        )
    print(f"  goals met: {res['goals_met']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="another checkout's src/ (e.g. `git archive main src`): measured too, same run",
    )
    parser.add_argument("--baseline-commit", default=None)
    args = parser.parse_args()
    previous = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    result: dict = {
        "goals_at_10m": GOALS,
        "pipeline": {"data": BASE, "production": PRODUCTION, "candidate": CANDIDATE},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "rows": previous.get("rows", {}),
    }
    variants = [("new", SRC.resolve())]
    if args.baseline_src:
        variants.append(("baseline", args.baseline_src.resolve()))
    for rows in args.rows:
        entry: dict = {
            "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
            "load_average_start": list(os.getloadavg()),
        }
        if args.baseline_src:
            entry["baseline_code"] = {"src": str(args.baseline_src), "commit": args.baseline_commit}
        result["rows"][str(rows)] = entry
        with tempfile.TemporaryDirectory(prefix="ds", dir="/tmp") as tmp:
            # the variants take turns stage by stage: each pair is measured under one load
            running = {tag: pipeline(Path(tmp), rows, tag, src) for tag, src in variants}
            while running:
                for tag, steps in list(running.items()):
                    try:
                        entry[tag] = next(steps)
                    except StopIteration as done:
                        entry[tag] = done.value
                        del running[tag]
                        show(rows, tag, entry[tag])
                    write(result)
        entry["load_average_end"] = list(os.getloadavg())
        if args.baseline_src:
            new, base = entry["new"], entry["baseline"]
            entry["new_vs_baseline"] = {
                "same_output_bytes": new["output_md5"] == base["output_md5"],
                "wall_s": {
                    n: round(new["stages"][n]["wall_s"] / base["stages"][n]["wall_s"], 3)
                    for n in STAGES
                },
                "peak_rss": {n: round(rss(new, n) / rss(base, n), 3) for n in STAGES},
            }
            print(f"new / baseline at {rows:,} rows: {entry['new_vs_baseline']}", flush=True)
        write(result)
    print(f"saved {OUT}")


def write(result: dict) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
