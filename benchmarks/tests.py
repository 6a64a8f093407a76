"""Test-suite cost by tier: wall time, CPU time, the 20 slowest tests and the counts per tier.

Runs each tier the way the Makefile does (every tier, ``make test-fast`` included, and the
whole suite run on two xdist workers) with ``--durations=20``, and appends
one record per tier to ``benchmarks/results/tests.json`` (the history is kept: each record names
its commit, time and machine load, next to the figures before it). The goals (issue 19): the
unit tier under 180 s, the whole suite under 1200 s on this 2-core machine; the baseline is the
whole suite before the tiers (CI's ``make test``: 2,612 s).

The machine may be shared: the load average before and after each run, and the CPU seconds the
run used (its children's user + system time), are saved with the wall time.

Run: ``python benchmarks/tests.py [unit integration e2e all]`` (default: unit).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks/results/tests.json"
TIERS = ("unit", "integration", "e2e")
WORKERS = ("-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder")  # the Makefile's
GOALS = {"unit_wall_s": 180, "all_wall_s": 1200}
BASELINE = {"all_wall_s": 2612, "source": "CI `make test` before the tiers (issue 19)"}
DURATION = re.compile(r"^\s*([\d.]+)s (setup|call|teardown)\s+(\S+)")
SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|error|errors|deselected|xfailed|xpassed)")


def _pytest(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]


def counts() -> dict[str, int]:
    """Tests (parametrized cases included) per tier and in all, from one collection."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "counts.json"
        paths = (str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", ""))
        path = os.pathsep.join(p for p in paths if p)
        proc = subprocess.run(
            _pytest("--collect-only", "-q", "-p", "tier_counts"),
            cwd=ROOT,
            env={**os.environ, "TIER_COUNTS": str(out), "PYTHONPATH": path},
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"collection failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        return json.loads(out.read_text())


def run(tier: str) -> dict:
    select = [] if tier == "all" else ["-m", tier]
    cmd = _pytest(*select, *WORKERS, "-q", "--durations=20", "--durations-min=0")
    load_before = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    slowest = [
        {"seconds": float(m[1]), "phase": m[2], "test": m[3]}
        for m in map(DURATION.match, proc.stdout.splitlines())
        if m
    ][:20]
    log = Path(tempfile.gettempdir()) / f"pr2prod-tests-{tier}.log"
    log.write_text(proc.stdout + proc.stderr)  # the whole run, for the failures' details
    print(f"{tier}: the run's output is in {log}")
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return {
        "tier": tier,
        "command": " ".join(["pytest", *cmd[4:]]),
        "exit_code": proc.returncode,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "outcome": {k: int(n) for n, k in SUMMARY.findall(tail)},
        "failed": [
            line.split()[1]
            for line in proc.stdout.splitlines()
            if line.startswith(("FAILED ", "ERROR "))
        ],
        "slowest": slowest,
    }


def _commit() -> str:
    proc = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return proc.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tiers", nargs="*", default=["unit"], choices=[*TIERS, "all"])
    args = parser.parse_args()
    per_tier = counts()
    print(f"tests per tier: {per_tier}")
    if per_tier["all"] != sum(per_tier[t] for t in TIERS):
        raise SystemExit(f"a test is in no tier or in two: {per_tier}")
    results = json.loads(OUT.read_text()) if OUT.exists() else {"runs": []}
    for tier in args.tiers:
        record = run(tier)
        record.update(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "commit": _commit(),
                "cpus": os.cpu_count(),
                "counts": per_tier,
            }
        )
        goal = GOALS.get(f"{tier}_wall_s")
        verdict = "" if goal is None else f" (goal < {goal} s: {record['wall_s'] < goal})"
        print(
            f"{tier}: {record['wall_s']} s wall{verdict}, {record['cpu_s']} s CPU, "
            f"{record['outcome']}, load {record['load_before'][0]} -> {record['load_after'][0]}"
        )
        for row in record["slowest"][:10]:
            print(f"  {row['seconds']:7.2f} s {row['phase']:8} {row['test']}")
        results["runs"].append(record)
    results["goals"] = GOALS
    results["baseline"] = BASELINE
    results["latest"] = {r["tier"]: r["wall_s"] for r in results["runs"]}  # last per tier
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
