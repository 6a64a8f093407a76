"""Score both models on the same rows and encode labels as class indices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pr2prod.compare.errors import GateError, new_lineage
from pr2prod.compare.sums import Paired
from pr2prod.evaluate.metrics import predict
from pr2prod.models.persist import LoadedModel


def _encode(values: np.ndarray, labels: list, what: str) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.dtype.kind in "iufb" and values.dtype.kind in "iufb":  # fast numeric path
        order = np.argsort(lab)
        pos = np.clip(np.searchsorted(lab[order], values), 0, len(lab) - 1)
        if np.array_equal(lab[order][pos], values):
            return order[pos].astype(np.int64)
    index = {str(lab): i for i, lab in enumerate(labels)}
    as_text = pd.Series(values).astype(str)
    codes = as_text.map(index)
    if codes.isna().any():
        unknown = sorted(set(as_text[codes.isna()]))[:5]
        raise GateError(f"{what} holds classes {unknown} outside the schema's labels {labels}")
    return codes.to_numpy(dtype=np.int64)


def score_pair(candidate: LoadedModel, baseline: LoadedModel | None, test: pd.DataFrame) -> Paired:
    """Predictions of both models on ``test`` (the candidate's schema decides the columns).

    With no baseline the candidate is paired with itself (floors still apply).

    Raises:
        GateError: the two models do not share the task or the class labels.
    """
    schema = candidate.schema
    baseline = baseline or candidate
    if baseline.schema.task != schema.task:
        raise new_lineage(
            f"candidate is a {schema.task} model, production a "
            f"{baseline.schema.task} model: nothing to compare"
        )
    x = test[schema.feature_names]
    pred_c, proba_c = predict(candidate.pipeline, x, schema.task)
    if baseline is candidate:
        pred_b, proba_b = pred_c, proba_c
    else:
        pred_b, proba_b = predict(
            baseline.pipeline, test[baseline.schema.feature_names], schema.task
        )
    y = test[schema.target].to_numpy()
    if schema.task == "regression":
        return Paired(
            schema.task, y.astype(np.float64), pred_c.astype(np.float64), pred_b.astype(np.float64)
        )
    labels = list(schema.labels or [])
    if [str(v) for v in baseline.schema.labels or []] != [str(v) for v in labels]:
        raise new_lineage(
            f"candidate classes {labels} differ from production's {baseline.schema.labels}"
        )
    return Paired(
        schema.task,
        _encode(y, labels, "the test target"),
        _encode(pred_c, labels, "candidate predictions"),
        _encode(pred_b, labels, "production predictions"),
        proba_c,
        proba_b,
        len(labels),
    )
