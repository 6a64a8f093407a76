"""Schema of the ``paths`` config group (conf/paths/): the catalog of every file and directory
a project reads or writes (:mod:`pr2prod.config.catalog`).

The values live in ``conf/paths/default.yaml`` only; ``dvc.yaml`` and the code both read
them from ``params.yaml``. Each must stay inside the project: :mod:`pr2prod.config.outputs`
checks it with every other output path.
"""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING


@dataclass
class PathsConfig:
    """Project-relative paths of every input and output (the catalog's entries)."""

    prepared: str = MISSING
    model: str = MISSING
    validation: str = MISSING
    run_facts: str = MISSING
    metrics: str = MISSING
    plots: str = MISSING
    gate_json: str = MISSING
    gate_md: str = MISSING
    gate_plots: str = MISSING
    gate_metrics: str = MISSING
    bento_json: str = MISSING
    model_card: str = MISSING
    pr_report: str = MISSING
    prediction_log: str = MISSING
    score_input: str = MISSING
    scored: str = MISSING
    warehouse: str = MISSING
    score_json: str = MISSING
    monitor_reports: str = MISSING
    monitor_plots: str = MISSING
    monitor_alert: str = MISSING
    canary_json: str = MISSING
    canary_md: str = MISSING
    retrain_json: str = MISSING
    retrain_md: str = MISSING
    sweep_json: str = MISSING
