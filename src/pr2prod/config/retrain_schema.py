"""Schema of the ``retrain`` config group (conf/retrain/): when ``pr2prod retrain`` fires."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RetrainConfig:
    """Trigger rules and branch naming of ``pr2prod retrain`` (docs/continuous.md).

    Attributes:
        branch: branch the retraining commit goes to (one open retraining PR at a time).
    """

    branch: str = "pr2prod/retrain"
