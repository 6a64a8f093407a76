"""``pr2prod sweep`` on real Ray: locally and on a 2-node cluster, loopback only.

Each test checks the promise end to end: every trial is reported (a failing one with its
error), and ``pr2prod compose experiment=<name> && dvc repro train`` rebuilds the best
trial's artifact bit for bit (same artifact id, i.e. the md5 dvc.lock records).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from _netns import run_in_netns
from _project import BIN, repro, run
from pr2prod.models.identity import artifact_id

pytestmark = [pytest.mark.slow, pytest.mark.ray]

PR2PROD = shlex.quote(str(BIN / "pr2prod"))
RAY = shlex.quote(str(Path(sys.executable).parent / "ray"))

LR_GRID = """\
defaults:
  - base_sweep
  - _self_
name: lr_grid
metric: accuracy
direction: max
search: grid
parameters:
  # C=-1 is refused by scikit-learn at fit time: that trial must be reported, not dropped.
  model.C: {type: choice, values: [0.05, 0.5, 5.0, -1.0]}
resources: {cpus: 1}
"""


def _check(proc) -> None:
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    )


def _reproduces_best(project: Path, report: dict) -> None:
    best = report["best"]
    assert report["reproduce"] == f"pr2prod compose experiment={report['name']} && dvc repro"
    run([str(BIN / "pr2prod"), "compose", f"experiment={report['name']}"], project)
    repro(project, "train")
    assert artifact_id(project / "models" / "model") == best["artifact_id"]
    lock = (project / "dvc.lock").read_text(encoding="utf-8")
    assert f"{best['artifact_id']}.dir" in lock


def test_local_sweep_reports_every_trial_resumes_and_best_reproduces(
    netns, prepared_project
) -> None:
    project = prepared_project
    (project / "conf" / "sweep" / "lr_grid.yaml").write_text(LR_GRID, encoding="utf-8")
    sweep = f"{PR2PROD} sweep sweep=lr_grid --num-cpus 1"  # one trial at a time
    # Ctrl-C once the first trial has reported, then resume with Ray Tune's restore.
    script = f"""
{sweep} > first.log 2>&1 &
pid=$!
for _ in $(seq 1 240); do
  if grep -ls accuracy .pr2prod/sweeps/lr_grid/*/result.json >/dev/null 2>&1; then break; fi
  sleep 0.5
done
kill -INT $pid
rc=0; wait $pid || rc=$?
cat first.log; echo "first exit $rc"
cp reports/sweep.json interrupted.json
timeout 150 {sweep} --resume
"""
    proc = run_in_netns(netns, script, project)
    _check(proc)
    assert "first exit 1" in proc.stdout, proc.stdout[-3000:]
    assert "sweep interrupted: resume with `pr2prod sweep --resume" in proc.stdout
    first = json.loads((project / "interrupted.json").read_text(encoding="utf-8"))
    assert not first["complete"] and first["experiment_file"] is None
    done_first = {t["trial_id"] for t in first["trials"] if t["status"] in {"ok", "error"}}
    assert 1 <= len(done_first) < 4

    report = json.loads((project / "reports" / "sweep.json").read_text(encoding="utf-8"))
    assert report["resumed"] and report["complete"]
    assert report["trials_ok"] == 3 and report["trials_failed"] == 1
    assert done_first <= {t["trial_id"] for t in report["trials"]}  # kept, not rerun
    failed = [t for t in report["trials"] if t["status"] == "error"]
    assert failed[0]["values"] == {"model.C": -1.0}
    assert "C" in failed[0]["error"] and failed[0]["error"] in proc.stdout  # shown, not dropped
    ok = [t for t in report["trials"] if t["status"] == "ok"]
    assert report["best"]["metric"] == max(t["metric"] for t in ok)
    assert {t["node_ip"] for t in ok} == {"127.0.0.1"}  # the namespace has only loopback
    experiment = (project / "conf" / "experiment" / "lr_grid.yaml").read_text(encoding="utf-8")
    assert experiment.startswith("# @package _global_\n")
    assert f"C: {report['best']['values']['model.C']}" in experiment

    _reproduces_best(project, report)


def test_two_node_cluster_sweep_uses_both_nodes_and_best_reproduces(
    netns, prepared_project, short_tmp
) -> None:
    project = prepared_project
    port = 6380  # a fresh network namespace: every port is free
    head, worker = short_tmp / "h", short_tmp / "w"
    common = "--node-ip-address=127.0.0.1 --num-cpus=1 --num-gpus=0 --disable-usage-stats"
    script = f"""
trap '{RAY} stop --force >/dev/null 2>&1 || true' EXIT
timeout 60 {RAY} start --head --port={port} --include-dashboard=false {common} --temp-dir={head}
timeout 60 {RAY} start --address=127.0.0.1:{port} {common} --temp-dir={worker}
timeout 120 {PR2PROD} sweep --address 127.0.0.1:{port} sweep.name=lr_cluster \
  sweep.num_samples=4 sweep.seed=1
"""
    proc = run_in_netns(netns, script, project)
    _check(proc)
    report = json.loads((project / "reports" / "sweep.json").read_text(encoding="utf-8"))
    assert len(report["nodes"]) == 2, report["nodes"]
    assert {n["ip"] for n in report["nodes"]} == {"127.0.0.1"}
    assert report["trials_ok"] == 4, [t["error"] for t in report["trials"]]
    used = {t["node_id"] for t in report["trials"]}
    assert used == {n["node_id"] for n in report["nodes"]}, "trials did not land on both nodes"
    print(f"2-node sweep of 4 trials: {report['wall_time_s']} s")
    _reproduces_best(project, report)


def test_ray_client_sweep_runs_on_the_cluster_and_best_reproduces(
    netns, prepared_project, short_tmp
) -> None:
    """``--address ray://host:port``: the driver connects through Ray Client, not as a node."""
    project = prepared_project
    port, client_port = 6380, 10001  # a fresh network namespace: every port is free
    common = "--node-ip-address=127.0.0.1 --num-cpus=1 --num-gpus=0 --disable-usage-stats"
    script = f"""
trap '{RAY} stop --force >/dev/null 2>&1 || true' EXIT
timeout 60 {RAY} start --head --port={port} --ray-client-server-port={client_port} \
  --include-dashboard=false {common} --temp-dir={short_tmp}
# a client session needs the head's runtime-env agent (Ray retries it for ~15 s only): wait
for _ in $(seq 1 120); do
  if grep -qs "Listening to address" {short_tmp}/session_latest/logs/runtime_env_agent.log
  then break; fi
  sleep 0.5
done
timeout 150 {PR2PROD} sweep --address ray://127.0.0.1:{client_port} sweep.name=lr_client \
  sweep.num_samples=2 sweep.seed=2 || {{
  tail -n 30 {short_tmp}/session_latest/logs/ray_client_server*.err >&2; exit 1; }}
"""
    proc = run_in_netns(netns, script, project)
    _check(proc)
    report = json.loads((project / "reports" / "sweep.json").read_text(encoding="utf-8"))
    assert report["address"] == f"ray://127.0.0.1:{client_port}"
    assert len(report["nodes"]) == 1 and report["trials_ok"] == 2, report
    assert {t["node_id"] for t in report["trials"]} == {report["nodes"][0]["node_id"]}
    _reproduces_best(project, report)
