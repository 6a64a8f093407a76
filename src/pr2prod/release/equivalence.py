"""How close is a reproduced model to the committed one? Three honest levels.

* **bit-identical**: every output hash equals ``dvc.lock``'s.
* **numerically equivalent**: the model bytes differ, but on the test split the predicted
  labels are identical and every probability (or regression value) is within the stated
  tolerance; each output is named with its max |delta|. This is what another CPU
  architecture or another BLAS gives (docs/reproducibility.md).
* **different**: anything else, named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from pr2prod.models.persist import load_artifact


class ReproLevel(StrEnum):
    """How a reproduction relates to the committed outputs (best first)."""

    bit_identical = "bit-identical"
    numerically_equivalent = "numerically equivalent"
    different = "different"


@dataclass(frozen=True)
class OutputDelta:
    """One model output compared on the test split."""

    name: str
    max_abs_delta: float
    within: bool


@dataclass(frozen=True)
class Equivalence:
    """The result of comparing two artifacts' predictions on the same rows."""

    equivalent: bool
    deltas: list[OutputDelta] = field(default_factory=list)
    reason: str = ""


def _outputs(
    model_dir: Path, test: pd.DataFrame, trusted_packages: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    model = load_artifact(model_dir, trusted_packages=trusted_packages)
    features = test[model.schema.feature_names]
    pipeline = model.pipeline
    out = {"predicted label/value": np.asarray(pipeline.predict(features))}
    if hasattr(pipeline, "predict_proba"):
        out["probabilities"] = np.asarray(pipeline.predict_proba(features), dtype=float)
    return out


def compare_models(
    committed: Path,
    reproduced: Path,
    test: pd.DataFrame,
    tolerance: float,
    trusted_packages: Sequence[str] = (),
) -> Equivalence:
    """Compare two artifacts' outputs on ``test``.

    Labels must be identical for a classifier; probabilities and regression values may
    differ by at most ``tolerance`` (absolute). ``trusted_packages``: the team's own packages
    the artifacts may hold classes of (``config.targets.project_packages``).
    """
    before = _outputs(committed, test, trusted_packages)
    after = _outputs(reproduced, test, trusted_packages)
    deltas: list[OutputDelta] = []
    for name, old in before.items():
        new = after.get(name)
        if new is None or new.shape != old.shape:
            return Equivalence(
                False, deltas, f"{name}: shape {old.shape} vs {getattr(new, 'shape', None)}"
            )
        if old.dtype.kind in "fc":
            delta = float(np.max(np.abs(old - new))) if old.size else 0.0
            deltas.append(OutputDelta(name, delta, delta <= tolerance))
        else:
            changed = int(np.sum(old != new))
            deltas.append(OutputDelta(name, float(changed), changed == 0))
    bad = [d for d in deltas if not d.within]
    reason = "; ".join(
        f"{d.name}: max |delta| {d.max_abs_delta:.3g} > {tolerance:g}"
        if d.name != "predicted label/value" or before[d.name].dtype.kind in "fc"
        else f"{d.name}: {int(d.max_abs_delta)} of {len(test)} rows changed"
        for d in bad
    )
    return Equivalence(not bad, deltas, reason)
