"""verify-repro's three levels, on real artifacts whose predictions move by known amounts."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pr2prod.models.persist import load_artifact, write_artifact
from pr2prod.release.equivalence import ReproLevel
from pr2prod.release.reproduce import OutputDiff, classify

ARTIFACT = "models/model"
TEST = "data/prepared/test.parquet"


def _nudged(trained_project: Path, dest: Path, delta: float) -> Path:
    """A copy of the trained model whose classifier intercept moved by ``delta``."""
    model = load_artifact(trained_project / ARTIFACT)
    pipeline = copy.deepcopy(model.pipeline)
    pipeline.steps[-1][1].intercept_ = pipeline.steps[-1][1].intercept_ + delta
    write_artifact(dest / ARTIFACT, pipeline, model.schema, model.metadata)
    (dest / TEST).parent.mkdir(parents=True, exist_ok=True)
    (dest / TEST).write_bytes((trained_project / TEST).read_bytes())
    return dest


MODEL_DIFF = [OutputDiff("train", ARTIFACT, "a.dir", "b.dir")]


def test_no_diff_is_bit_identical(trained_project: Path) -> None:
    level, _ = classify([], trained_project / ARTIFACT, ARTIFACT, trained_project, TEST, 1e-9)
    assert level is ReproLevel.bit_identical


def test_tiny_drift_is_numerically_equivalent_and_names_each_output(
    trained_project: Path, tmp_path: Path
) -> None:
    root = _nudged(trained_project, tmp_path, 1e-12)
    committed = trained_project / ARTIFACT
    level, found = classify(MODEL_DIFF, committed, ARTIFACT, root, TEST, 1e-9)
    assert level is ReproLevel.numerically_equivalent
    deltas = {d.name: d.max_abs_delta for d in found.deltas}
    assert deltas["predicted label/value"] == 0  # no label changed
    # a logit shift of 1e-12 moves a probability by at most 1e-12 / 4 (sigmoid' <= 1/4)
    assert 0 < deltas["probabilities"] <= 0.25e-12 * 1.01


def test_a_real_change_is_different_and_says_why(trained_project: Path, tmp_path: Path) -> None:
    root = _nudged(trained_project, tmp_path, 3.0)
    committed = trained_project / ARTIFACT
    level, found = classify(MODEL_DIFF, committed, ARTIFACT, root, TEST, 1e-9)
    assert level is ReproLevel.different
    test = pd.read_parquet(root / TEST)
    before = load_artifact(committed).pipeline.predict(
        test[load_artifact(committed).schema.feature_names]
    )
    after = load_artifact(root / ARTIFACT).pipeline.predict(
        test[load_artifact(committed).schema.feature_names]
    )
    changed = int(np.sum(before != after))
    assert changed > 0
    assert f"{changed} of {len(test)} rows changed" in found.reason


@pytest.mark.parametrize("stage", ["prepare", "validate"])
def test_different_data_is_different(trained_project: Path, stage: str) -> None:
    diffs = [OutputDiff(stage, "data/prepared", "a.dir", "b.dir")]
    level, found = classify(diffs, trained_project / ARTIFACT, ARTIFACT, trained_project, TEST, 1)
    assert level is ReproLevel.different
    assert "data differ" in found.reason


def test_without_the_committed_model_it_cannot_claim_equivalence(trained_project: Path) -> None:
    level, found = classify(MODEL_DIFF, None, ARTIFACT, trained_project, TEST, 1.0)
    assert level is ReproLevel.different
    assert "dvc pull" in found.reason
