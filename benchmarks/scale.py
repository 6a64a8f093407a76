"""Scale-out on Ray: batch scoring and a sweep, single process vs Ray on 1 and 2 local nodes.

Batch scoring (skip it with ``--no-scoring``):


Trains the logistic-regression artifact of ``benchmarks/batch.py`` (synthetic, 10 numeric +
2 categorical features), writes ``--rows`` synthetic rows as ``--files`` Parquet files (a
partitioned input), then, in one run, measures ``pr2prod score`` to Parquet with

- ``--engine local`` (one process; its reader and writer threads overlap with scoring);
- ``--engine ray --address`` on a cluster of 1 node (1 CPU), then of 2 nodes (1 CPU each),
  started with ``ray start`` on loopback.

Each command runs twice on 1,000 rows and twice on the full input, interleaved; the best
of each counts (the machine is shared). End-to-end rows/s includes the start-up (imports;
for Ray, connecting and starting the actors); rows/s after start-up subtracts the 1,000-row
time. Peak memory: the driver process
(``getrusage``) and each Ray node (raylet + its worker processes, psutil RSS sampled every
0.2 s); the head's other services (GCS, dashboard agent...) are listed apart.

Like the tests, it runs inside fresh network + PID namespaces (``unshare``; only loopback
exists there), because Ray otherwise binds the host's address.

``--baseline-src DIR`` measures the Ray engine a second time with another checkout's code
(``git archive <rev> src | tar -x -C DIR/..``) in the same run, cluster by cluster, so a change
is compared under the same machine load (results ``baseline_ray_*``, ratios ``*_vs_baseline``);
the load average at the start and end is recorded.

The sweep (``--sweep-trials N``, 6 by default; 0 skips it): a throw-away project
(``tests/_project.py``) on ``--sweep-rows`` synthetic rows with a random forest of
``--sweep-trees`` trees, whose prepared split ``dvc repro prepare`` records; ``pr2prod sweep``
runs a grid of N trials (``model.min_samples_leaf`` = 1..N, 1 CPU each) on a cluster of 1 node
(1 CPU), then of 2 nodes (1 CPU each), ``--sweep-rounds`` times interleaved; the best wall
time of each counts. Recorded: each trial's seconds (mean, min, max; the trial's own
``trial_s``), the sweep's wall time (``wall_time_s`` of ``reports/sweep.json``: connecting,
Tune and the trials) and the command's (with its imports), the 1-node / 2-node ratio, the
trials per node, peak memory per node and the load average at the sweep's start and end.

Each part writes only its own keys of scale.json (``sweep`` for the sweep): a part that did
not run keeps the values of the previous run.

Run: ``python benchmarks/scale.py [--rows 2000000] [--baseline-src DIR] [--no-scoring]
[--sweep-trials 6]``; writes benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks/results/scale.json"
SRC = ROOT / "src"
BIN = Path(sys.executable).parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]

PORT = 6380  # a fresh network namespace: every port is free
NODE = "--node-ip-address=127.0.0.1 --num-cpus=1 --num-gpus=0 --disable-usage-stats"
SWEEP_GOAL = {"speedup_2_vs_1_node_min": 1.7, "trial_s_min": 5.0}
SWEEP_CONF = """\
defaults:
  - base_sweep
  - _self_
name: bench
metric: accuracy
direction: max
search: grid
parameters:
  model.min_samples_leaf: {{type: choice, values: {values}}}
resources: {{cpus: 1, gpus: 0}}
"""


def write_partitioned(directory: Path, rows: int, files: int) -> None:
    """``rows`` synthetic rows (no target, unique row ids) as ``files`` Parquet files."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from batch import SYN
    from pr2prod.config.schema import SyntheticConfig
    from pr2prod.data.sources import make_synthetic

    directory.mkdir(parents=True)
    per = -(-rows // files)
    for i, start in enumerate(range(0, rows, per)):
        n = min(per, rows - start)
        df = make_synthetic(SyntheticConfig(n_rows=n, seed=100 + i, **SYN), "binary")
        df = df.drop(columns="target")
        df.insert(0, "row_id", np.arange(start, start + n, dtype=np.int64))
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), directory / f"{i:03d}.pq")


class NodeMemory:
    """Peak RSS per Ray node (raylet + descendants) and of the other Ray services."""

    def __init__(self, raylets: list[int]) -> None:
        self.raylets = raylets
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> NodeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.2)

    def _sample(self) -> None:
        import psutil

        seen: set[int] = set()
        now: dict[str, float] = {}
        for i, pid in enumerate(self.raylets):
            try:
                root = psutil.Process(pid)
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            now[f"node{i + 1}"] = _rss(procs) / 2**20
            seen.update(p.pid for p in procs)
        others = [p for p in psutil.process_iter(["cmdline"]) if _is_ray_service(p, seen)]
        now["head_services"] = _rss(others) / 2**20
        for key, mib in now.items():
            self.peak[key] = max(self.peak.get(key, 0.0), round(mib, 1))


def _rss(procs: list) -> int:
    total = 0
    for p in procs:
        with contextlib.suppress(Exception):  # a process that just ended counts as 0
            total += p.memory_info().rss
    return total


def _is_ray_service(p, seen: set[int]) -> bool:
    if p.pid in seen:
        return False
    cmd = " ".join(p.info.get("cmdline") or [])
    return "ray/" in cmd and "pr2prod" not in cmd and "scale.py" not in cmd


def raylet_pids() -> list[int]:
    import psutil

    procs = [
        p
        for p in psutil.process_iter(["name", "create_time", "status"])
        if p.info["name"] == "raylet" and p.info["status"] != psutil.STATUS_ZOMBIE
    ]
    return [p.pid for p in sorted(procs, key=lambda p: p.info["create_time"])]


def score(
    model: Path, data: Path, out: Path, extra: list[str], src: Path = SRC
) -> tuple[float, float, dict]:
    """Wall seconds, the driver's peak RSS (MiB) and the summary of one ``pr2prod score``."""
    from batch import WRAP

    summary = out.with_suffix(".json")
    cmd = [
        str(BIN / "pr2prod"),
        "score",
        "--no-progress",
        "--params",
        str(ROOT / "params.yaml"),
        "--model",
        str(model),
        "--input",
        str(data),
        "--no-db",
        "--parquet",
        str(out),
        "--chunk-rows",
        "100000",
        "--summary",
        str(summary),
        *extra,
    ]
    out_text = subprocess.run(
        [sys.executable, "-c", WRAP, *cmd],
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(src)),
    ).stdout
    _, wall, kb, rc = out_text.strip().splitlines()[-1].split()
    if rc != "0":
        raise RuntimeError(f"{' '.join(cmd)} exited {rc}")
    return float(wall), int(kb) / 1024, json.loads(summary.read_text(encoding="utf-8"))


def ray_cmd(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(BIN / "ray"), *args], check=True, capture_output=True, text=True, env=env)


@contextlib.contextmanager
def cluster(work: Path, nodes: int, src: Path) -> Iterator[None]:
    """A loopback Ray cluster of ``nodes`` 1-CPU nodes whose workers import pr2prod from ``src``."""
    env = dict(os.environ, PYTHONPATH=str(src))
    head = f"--temp-dir={work / 'h'}"
    ray_cmd(
        "start",
        "--head",
        f"--port={PORT}",
        "--include-dashboard=false",
        *NODE.split(),
        head,
        env=env,
    )
    try:
        if nodes == 2:
            worker = f"--temp-dir={work / 'k'}"
            ray_cmd("start", f"--address=127.0.0.1:{PORT}", *NODE.split(), worker, env=env)
            time.sleep(2)
        yield
    finally:
        subprocess.run([str(BIN / "ray"), "stop", "--force"], capture_output=True, check=False)
        for _ in range(60):  # the next cluster's memory must not count this one's raylets
            if not raylet_pids():
                break
            time.sleep(0.5)


def measure_engine(
    name: str, model: Path, big: Path, rows: int, work: Path, extra: list[str], src: Path = SRC
) -> dict:
    """Best of two runs on 1,000 rows (start-up) and on the full input, interleaved."""
    tiny, full = [], []
    for attempt in range(2):
        tiny.append(score(model, work / "tiny", work / f"{name}-tiny{attempt}", extra, src)[0])
        full.append(score(model, big, work / f"{name}-big{attempt}", extra, src))
    best = min(full, key=lambda r: r[0])
    startup = min(tiny)
    return {
        "seconds": round(best[0], 3),
        "seconds_both_runs": [round(r[0], 3) for r in full],
        "rows_per_s": round(rows / best[0]),
        "startup_seconds_1k_rows": round(startup, 3),
        "rows_per_s_after_startup": round(rows / (best[0] - startup)),
        "driver_peak_rss_mib": round(max(r[1] for r in full), 1),
        "chunks_per_node": best[2]["outputs"].get("chunks_per_node"),
    }


def sweep_project(work: Path, rows: int, trees: int, trials: int) -> Path:
    """A committed project on ``rows`` synthetic rows, its split prepared, a grid of ``trials``."""
    from _project import make_project, repro

    overrides = [
        "data=synthetic",
        f"data.synthetic.n_rows={rows}",
        "model=random_forest",
        f"model.n_estimators={trees}",
    ]
    project = make_project(work / "proj", overrides)
    repro(project, "prepare")
    values = json.dumps(list(range(1, trials + 1)))
    (project / "conf/sweep/bench.yaml").write_text(
        SWEEP_CONF.format(values=values), encoding="utf-8"
    )
    return project


def run_sweep(project: Path, name: str) -> dict:
    """One ``pr2prod sweep`` on the running cluster: wall times, trial seconds, placement."""
    cmd = [str(BIN / "pr2prod"), "sweep", "sweep=bench", f"sweep.name={name}"]
    cmd += ["--address", f"127.0.0.1:{PORT}"]
    started = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=dict(os.environ, PYTHONPATH=str(SRC)),
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stderr[-3000:]}")
    report = json.loads((project / "reports/sweep.json").read_text(encoding="utf-8"))
    ok = [t for t in report["trials"] if t["status"] == "ok"]
    if len(ok) != report["trials_planned"]:
        raise RuntimeError(f"{name}: {report['trials_failed']} trials failed: {report['trials']}")
    trial_s = [t["trial_s"] for t in ok]
    per_node = Counter(t["node_id"] for t in ok)
    return {
        "sweep_wall_time_s": report["wall_time_s"],
        "command_wall_s": round(wall, 3),
        "trial_s_mean": round(sum(trial_s) / len(trial_s), 3),
        "trial_s_min": min(trial_s),
        "trial_s_max": max(trial_s),
        "fit_s_mean": round(sum(t["fit_s"] for t in ok) / len(ok), 3),
        "trials_per_node": sorted(per_node.values(), reverse=True),
        "nodes": len(report["nodes"]),
    }


def sweep(args: argparse.Namespace) -> dict:
    """The same grid of trials on 1 node, then on 2 (``rounds`` times, interleaved)."""
    load_start = list(os.getloadavg())
    result: dict = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
        "trials": args.sweep_trials,
        "search": "grid",
        "parameter": f"model.min_samples_leaf = 1..{args.sweep_trials}",
        "data_rows": args.sweep_rows,
        "model": f"random_forest, {args.sweep_trees} trees, n_jobs=1",
        "resources_per_trial": {"cpus": 1},
        "rounds": args.sweep_rounds,
    }
    runs: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="sw", dir="/tmp") as tmp:
        work = Path(tmp)
        project = sweep_project(work, args.sweep_rows, args.sweep_trees, args.sweep_trials)
        for rnd in range(args.sweep_rounds):
            for nodes in (1, 2):
                with cluster(work, nodes, SRC), NodeMemory(raylet_pids()) as mem:
                    res = run_sweep(project, f"bench_{nodes}node_{rnd}")
                res["peak_rss_mib_per_node"] = mem.peak
                runs[nodes].append(res)
                print(f"sweep on {nodes} node(s), round {rnd}: {res}", flush=True)
    for nodes, measured in runs.items():
        best = min(measured, key=lambda r: r["sweep_wall_time_s"])
        result[f"ray_{nodes}_node"] = {
            **best,
            "sweep_wall_time_s_all_rounds": [r["sweep_wall_time_s"] for r in measured],
        }
    one, two = result["ray_1_node"], result["ray_2_node"]
    speedup = round(one["sweep_wall_time_s"] / two["sweep_wall_time_s"], 3)
    result["ratios"] = {
        "speedup_2_vs_1_node": speedup,
        "speedup_2_vs_1_node_command": round(one["command_wall_s"] / two["command_wall_s"], 3),
    }
    result["load_average_1_5_15_min"] = {"start": load_start, "end": list(os.getloadavg())}
    long_enough = one["trial_s_min"] >= SWEEP_GOAL["trial_s_min"]
    result["goals"] = {
        **SWEEP_GOAL,
        "trials_long_enough": long_enough,  # the goal is for trials of >= 5 s on 1 node
        "met": long_enough and speedup >= SWEEP_GOAL["speedup_2_vs_1_node_min"],
    }
    return result


def scoring(args: argparse.Namespace) -> dict:
    """Batch scoring: local, then Ray on 1 and 2 nodes (and the baseline's code)."""
    from batch import train_artifact

    load_start = list(os.getloadavg())
    result: dict = {
        "rows": args.rows,
        "files": args.files,
        "chunk_rows": 100_000,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    with tempfile.TemporaryDirectory(prefix="sc", dir="/tmp") as tmp:
        work = Path(tmp)
        model = work / "model"
        train_artifact(model)
        big = work / "big"
        write_partitioned(big, args.rows, args.files)
        write_partitioned(work / "tiny", 1000, 1)
        result["local"] = measure_engine("local", model, big, args.rows, work, [])
        extra = ["--engine", "ray", "--address", f"127.0.0.1:{PORT}"]
        variants = [("", SRC)]
        if args.baseline_src:  # the same measurements with another checkout's code, interleaved
            variants.append(("baseline_", args.baseline_src.resolve()))
            result["baseline"] = {"src": str(args.baseline_src), "commit": args.baseline_commit}
        for nodes in (1, 2):
            for prefix, src in variants:
                with cluster(work, nodes, src), NodeMemory(raylet_pids()) as mem:
                    res = measure_engine(
                        f"{prefix}ray{nodes}", model, big, args.rows, work, extra, src
                    )
                res["peak_rss_mib_per_node"] = mem.peak
                result[f"{prefix}ray_{nodes}_node"] = res
    result["load_average_1_5_15_min"] = {"start": load_start, "end": list(os.getloadavg())}
    local = result["local"]
    result["ratios"] = {
        f"ray_{n}_node_vs_local": {
            "rows_per_s": round(result[f"ray_{n}_node"]["rows_per_s"] / local["rows_per_s"], 3),
            "rows_per_s_after_startup": round(
                result[f"ray_{n}_node"]["rows_per_s_after_startup"]
                / local["rows_per_s_after_startup"],
                3,
            ),
        }
        for n in (1, 2)
    }
    result["ratios"]["ray_2_vs_1_node_rows_per_s"] = round(
        result["ray_2_node"]["rows_per_s"] / result["ray_1_node"]["rows_per_s"], 3
    )
    for prefix in ("baseline_",) if args.baseline_src else ():
        for n in (1, 2):
            base, new = result[f"{prefix}ray_{n}_node"], result[f"ray_{n}_node"]
            result["ratios"][f"ray_{n}_node_vs_baseline_rows_per_s"] = round(
                new["rows_per_s"] / base["rows_per_s"], 3
            )
            result["ratios"][f"baseline_ray_{n}_node_vs_local_rows_per_s"] = round(
                base["rows_per_s"] / local["rows_per_s"], 3
            )
    result["goals"] = {
        "ray_1_node_share_of_local_min": 0.8,
        "met_end_to_end": result["ratios"]["ray_1_node_vs_local"]["rows_per_s"] >= 0.8,
        "met_after_startup": result["ratios"]["ray_1_node_vs_local"]["rows_per_s_after_startup"]
        >= 0.8,
    }
    return result


def inside(args: argparse.Namespace) -> None:
    """Every part asked for, inside the namespaces; each replaces only its own keys."""
    previous = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    result = {k: v for k, v in previous.items() if k != "sweep"}
    if not args.no_scoring:
        result = scoring(args)
    if args.sweep_trials > 0:
        result["sweep"] = sweep(args)
    elif "sweep" in previous:
        result["sweep"] = previous["sweep"]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="another checkout's src/ (e.g. `git archive main src`): measured too, same run",
    )
    parser.add_argument("--baseline-commit", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--no-scoring", action="store_true", help="measure only the sweep")
    parser.add_argument("--sweep-trials", type=int, default=6, help="0: no sweep")
    parser.add_argument("--sweep-rows", type=int, default=20_000)
    parser.add_argument("--sweep-trees", type=int, default=100)
    parser.add_argument("--sweep-rounds", type=int, default=2)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args)
        return
    from _netns import netns_prefix

    prefix, reason = netns_prefix()
    if prefix is None:
        raise SystemExit(f"scale benchmark needs network namespaces: {reason}")
    env = dict(os.environ)
    env.update(
        RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32), RAY_USAGE_STATS_ENABLED="0"
    )
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("RAY_ADDRESS", None)
    env["PYTHONPATH"] = str(SRC)  # every pr2prod process (dvc repro's stages too) runs this code
    me = [sys.executable, str(Path(__file__).resolve()), "--inside"]
    me += ["--rows", str(args.rows), "--files", str(args.files)]
    me += ["--sweep-trials", str(args.sweep_trials), "--sweep-rows", str(args.sweep_rows)]
    me += ["--sweep-trees", str(args.sweep_trees), "--sweep-rounds", str(args.sweep_rounds)]
    if args.no_scoring:
        me.append("--no-scoring")
    if args.baseline_src:
        me += ["--baseline-src", str(args.baseline_src.resolve())]
        if args.baseline_commit:
            me += ["--baseline-commit", args.baseline_commit]
    script = "ip link set lo up && exec " + " ".join(me)
    proc = subprocess.run([*prefix, "bash", "-c", script], env=env, timeout=1800, check=False)
    raise SystemExit(proc.returncode)


if __name__ == "__main__":
    main()
