"""Scale-out on Ray: batch-scoring rows/s, single process vs Ray on 1 and 2 local nodes.

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

Run: ``python benchmarks/scale.py [--rows 2000000] [--baseline-src DIR]``; writes
benchmarks/results/scale.json.
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
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks/results/scale.json"
SRC = ROOT / "src"
BIN = Path(sys.executable).parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]

PORT = 6380  # a fresh network namespace: every port is free
NODE = "--node-ip-address=127.0.0.1 --num-cpus=1 --num-gpus=0 --disable-usage-stats"


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


def inside(args: argparse.Namespace) -> dict:
    """Everything, inside the namespaces."""
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
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        result = inside(args)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(result, indent=2))
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
    me = [sys.executable, str(Path(__file__).resolve()), "--inside"]
    me += ["--rows", str(args.rows), "--files", str(args.files)]
    if args.baseline_src:
        me += ["--baseline-src", str(args.baseline_src.resolve())]
        if args.baseline_commit:
            me += ["--baseline-commit", args.baseline_commit]
    script = "ip link set lo up && exec " + " ".join(me)
    proc = subprocess.run([*prefix, "bash", "-c", script], env=env, timeout=900, check=False)
    raise SystemExit(proc.returncode)


if __name__ == "__main__":
    main()
