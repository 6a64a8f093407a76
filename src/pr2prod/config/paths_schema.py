"""Schema of the ``paths`` config group (conf/paths/): where the pipeline reads and writes.

The values live in ``conf/paths/default.yaml`` only; ``dvc.yaml`` and the code both read
them from ``params.yaml``. Each must stay inside the project: :mod:`pr2prod.config.outputs`
checks it with every other output path.
"""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING


@dataclass
class PathsConfig:
    """Project-relative paths of the pipeline's inputs and outputs."""

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
