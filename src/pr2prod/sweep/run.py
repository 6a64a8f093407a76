"""Run a sweep on Ray Tune: embedded local Ray by default, or a cluster (``--address``)."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pr2prod.config import catalog
from pr2prod.config.errors import ConfigError
from pr2prod.config.sweep_schema import SearchAlgorithm, SweepConfig, direction, search_algorithm
from pr2prod.fsio import write_json
from pr2prod.raystart import start_ray
from pr2prod.sweep.experiment import experiment_yaml, reproduce_command, write_experiment
from pr2prod.sweep.project import TrialInputs, read_inputs
from pr2prod.sweep.results import TrialRecord, error_line, ranked, sweep_report
from pr2prod.sweep.spec import plain, trial_count, trial_overrides, tune_space
from pr2prod.sweep.trial import METRIC_NAMES_KEY, run_trial

STATE_DIR = Path(".pr2prod") / "sweeps"  # Tune's state, per sweep name (gitignored)


@dataclass
class SweepOutcome:
    """What a sweep did: every trial, the best one and where its experiment file is."""

    records: list[TrialRecord]
    best: TrialRecord | None
    report: dict[str, Any]
    report_path: Path
    experiment_path: Path | None
    reproduce: str | None
    complete: bool


def _search(cfg: SweepConfig) -> Any:
    from ray.tune.search.basic_variant import BasicVariantGenerator

    algo = search_algorithm(cfg)
    if algo is SearchAlgorithm.optuna:
        from ray.tune.search.optuna import OptunaSearch

        return OptunaSearch(seed=cfg.seed)
    if algo is SearchAlgorithm.random:
        return BasicVariantGenerator(random_state=cfg.seed)
    return BasicVariantGenerator()


def _tuner(cfg: SweepConfig, inputs: TrialInputs, root: Path, resume: bool) -> Any:
    from ray import tune

    from pr2prod.sweep.progress import SweepProgress

    storage = (root / STATE_DIR).resolve()
    exp_dir = storage / cfg.name
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, inputs=inputs, sweep=cfg),
        {"cpu": cfg.resources.cpus, "gpu": cfg.resources.gpus},
    )
    if resume:
        if not tune.Tuner.can_restore(str(exp_dir)):
            raise ConfigError(
                f"{exp_dir}: no sweep to resume for sweep.name={cfg.name!r}; run without --resume"
            )
        return tune.Tuner.restore(str(exp_dir), trainable=trainable, resume_errored=False)
    shutil.rmtree(exp_dir, ignore_errors=True)  # a new sweep of this name starts afresh
    grid = search_algorithm(cfg) is SearchAlgorithm.grid
    progress = SweepProgress(trial_count(cfg), cfg.metric, direction(cfg))
    return tune.Tuner(
        trainable,
        param_space=tune_space(cfg),
        tune_config=tune.TuneConfig(
            metric=cfg.metric,
            mode=direction(cfg).value,
            num_samples=1 if grid else cfg.num_samples,
            search_alg=_search(cfg),
            max_concurrent_trials=cfg.max_concurrent or None,
        ),
        run_config=tune.RunConfig(
            name=cfg.name,
            storage_path=str(storage),
            callbacks=[progress],
            verbose=0,
            failure_config=tune.FailureConfig(max_failures=0, fail_fast=False),
        ),
    )


def _records(grid: Any, cfg: SweepConfig, node_ips: dict[str, str]) -> list[TrialRecord]:
    records = []
    for res in grid:
        metrics = dict(res.metrics or {})
        values = {k: plain(v) for k, v in (res.config or {}).items() if k in cfg.parameters}
        trial_id = str(metrics.get("trial_id") or Path(str(res.path)).name)
        rec = TrialRecord(
            trial_id=trial_id,
            status="error" if res.error else "ok",
            values=values,
            overrides=trial_overrides(cfg, values) if values else [],
        )
        if res.error:
            rec.error = error_line(res.error)
        elif METRIC_NAMES_KEY in metrics:
            rec.metrics = {k: float(metrics[k]) for k in metrics[METRIC_NAMES_KEY]}
            rec.metric = rec.metrics.get(cfg.metric)
            rec.artifact_id = metrics.get("artifact_id")
            rec.params_digest = metrics.get("params_digest")
            rec.fit_s = metrics.get("fit_s")
            rec.trial_s = metrics.get("trial_s")
            rec.node_id = metrics.get("node_id")
            rec.node_ip = metrics.get("node_ip") or node_ips.get(rec.node_id or "")
        else:  # interrupted before it reported
            rec.status = "incomplete"
        records.append(rec)
    return records


def run_sweep(
    root: Path,
    cfg: SweepConfig,
    address: str | None = None,
    resume: bool = False,
    node_ip: str = "127.0.0.1",
    num_cpus: int | None = None,
) -> SweepOutcome:
    """Run (or resume) the sweep; write ``paths.sweep_json`` and the best trial's experiment.

    Raises:
        ConfigError: params.yaml is not conf/ + its overrides, or the experiment file
            cannot be written (see :func:`pr2prod.sweep.project.read_inputs`).
        DataError: dvc.lock or the workspace split is missing or differs.
    """
    import ray

    inputs = read_inputs(root)
    report_path = root / catalog.entry("sweep_json", root / "params.yaml")
    started = time.perf_counter()
    start_ray(address, node_ip, num_cpus)
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        grid = _tuner(cfg, inputs, root, resume).fit()
        node_ips = {n["NodeID"]: n["NodeManagerAddress"] for n in ray.nodes()}
    finally:
        ray.shutdown()
    wall = time.perf_counter() - started
    records = ranked(_records(grid, cfg, node_ips), direction(cfg))
    total = trial_count(cfg)
    complete = sum(r.status in {"ok", "error"} for r in records) >= total
    best = records[0] if records and records[0].status == "ok" else None
    experiment_path, reproduce = None, None
    if best is not None and complete:
        text = experiment_yaml(
            cfg.name,
            best.overrides,
            {p.name for p in (root / "conf").iterdir() if p.is_dir()},
            f"best of {len(records)} trials, {cfg.metric}={best.metric}, "
            f"artifact {best.artifact_id}",
        )
        experiment_path = write_experiment(root / "conf", cfg.name, text)
        reproduce = reproduce_command(
            root / "conf", cfg.name, inputs.recorded_overrides, best.params_digest or ""
        )
    summary = {
        "name": cfg.name,
        "metric": cfg.metric,
        "direction": direction(cfg).value,
        "search": search_algorithm(cfg).value,
        "trials_planned": total,
        "complete": complete,
        "resumed": resume,
        "address": address or "local",
        "nodes": [{"node_id": n["NodeID"], "ip": n["NodeManagerAddress"]} for n in nodes],
        "resources_per_trial": {"cpus": cfg.resources.cpus, "gpus": cfg.resources.gpus},
        "prepared_md5": inputs.prepared_md5,
        "wall_time_s": round(wall, 3),
        "experiment_file": str(experiment_path.relative_to(root)) if experiment_path else None,
        "reproduce": f"{reproduce} && dvc repro" if reproduce else None,
        "state": str(STATE_DIR / cfg.name),
    }
    report = sweep_report(summary, records, best)
    write_json(report_path, report)
    return SweepOutcome(records, best, report, report_path, experiment_path, reproduce, complete)
