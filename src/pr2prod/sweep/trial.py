"""One trial, as a Ray Tune function trainable: compose, train, persist, evaluate, report.

It runs the pipeline's own code in the pipeline's own order (``stages/train.py`` then
``stages/evaluate.py``): the artifact is written with the same writer and metadata, so its
id is the one ``dvc repro train`` gives for the same config. The numerical envelope's
variables reach the worker process when Ray starts it (the run's ``runtime_env``); the
trial applies the envelope again first and records how it took effect.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from pr2prod import envelope
from pr2prod.config.sweep_schema import SweepConfig
from pr2prod.sweep.project import TrialInputs

METRIC_NAMES_KEY = "metric_names"  # which keys of the result are evaluate metrics


def trial_body(
    inputs: TrialInputs, overrides: list[str], experiment: str, metric: str
) -> dict[str, Any]:
    """Run one trial in a throw-away directory; return its metrics and identity.

    Raises whatever the pipeline raises (a config error, a fit failure): the caller
    reports it as the trial's error.
    """
    record = envelope.apply()
    facts = envelope.facts(record)  # pins thread pools to 1 thread as the stages do
    import pandas as pd

    from pr2prod.config.compose import params_digest
    from pr2prod.config.hydra_compose import compose_dict
    from pr2prod.config.loader import to_config
    from pr2prod.config.targets import check_targets, project_packages
    from pr2prod.data.schema import DataSchema
    from pr2prod.evaluate.report import evaluate_model
    from pr2prod.models.identity import artifact_id
    from pr2prod.models.metadata import artifact_metadata
    from pr2prod.models.persist import load_artifact, write_artifact
    from pr2prod.models.train import fit_pipeline

    started = time.perf_counter()
    old_cwd = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="pr2prod-trial-") as tmp:
        work = Path(tmp)
        for rel, text in inputs.conf_files.items():
            (work / "conf" / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / "conf" / rel).write_text(text, encoding="utf-8")
        os.chdir(work)  # relative paths (train's DVCLive dir) resolve as in `dvc repro`
        try:
            raw = compose_dict(work / "conf", [*inputs.recorded_overrides, *overrides])
            raw["experiment"] = experiment  # what conf/experiment/<name>.yaml will set
            cfg = to_config(raw)
            check_targets(raw)
            prepared = work / cfg.paths.prepared
            prepared.mkdir(parents=True, exist_ok=True)
            for name, data in inputs.prepared.items():
                (prepared / name).write_bytes(data)
            train_path, test_path = prepared / "train.parquet", prepared / "test.parquet"
            schema = DataSchema.load(prepared / "schema.json")
            train = pd.read_parquet(train_path)
            fit_started = time.perf_counter()
            live = str(Path(inputs.run_facts) / "dvclive")
            pipeline = fit_pipeline(cfg, schema, train, live_dir=live)
            fit_s = time.perf_counter() - fit_started
            meta = artifact_metadata(cfg, Path("params.yaml"), [train_path, test_path])
            model_dir = work / "artifact"
            write_artifact(model_dir, pipeline, schema, meta)
            aid = artifact_id(model_dir)
            model = load_artifact(model_dir, trusted_packages=project_packages(cfg.allowed_targets))
            metrics, _ = evaluate_model(model, pd.read_parquet(test_path), cfg.evaluate)
        finally:
            os.chdir(old_cwd)
    scalars = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
    if metric not in scalars:
        from pr2prod.config.errors import ConfigError

        raise ConfigError(
            f"sweep.metric: {metric!r} is not a metric of this {cfg.data.task} model; "
            f"choose one of {', '.join(sorted(scalars))}"
        )
    return {
        **scalars,
        METRIC_NAMES_KEY: sorted(scalars),
        "artifact_id": aid,
        "params_digest": params_digest(raw),
        "fit_s": round(fit_s, 3),
        "trial_s": round(time.perf_counter() - started, 3),
        "envelope_late": bool(facts.get("late")),
        "envelope_kernel": {k: v["value"] for k, v in (facts.get("kernel") or {}).items()},
    }


def run_trial(config: dict[str, Any], inputs: TrialInputs, sweep: SweepConfig) -> None:
    """Ray Tune entry point: ``config`` holds the trial's sampled values."""
    import ray
    from ray import tune

    from pr2prod.sweep.spec import plain, trial_overrides

    values = {k: plain(v) for k, v in config.items()}
    result = trial_body(inputs, trial_overrides(sweep, values), sweep.name, sweep.metric)
    result["node_id"] = ray.get_runtime_context().get_node_id()
    result["node_ip"] = ray.util.get_node_ip_address()  # kept: a resumed sweep has new nodes
    tune.report(result)
