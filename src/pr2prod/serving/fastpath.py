"""A compiled numpy path through the fitted pipeline, trusted only after a parity check.

The fitted pipeline starts with a ``ColumnTransformer`` that selects columns by name, so it
needs a DataFrame; building one per request and letting pandas route columns costs
milliseconds. :class:`CompiledPipeline` does the same arithmetic on a 2-D array: it calls
each fitted column transformer on its slice of the array, stacks the results and runs the
remaining steps. It is used only when :func:`compile_pipeline` can express the pipeline
and :func:`parity_rows` scored through both paths give identical predictions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from pr2prod.data.schema import DataSchema


@dataclass
class CompiledPipeline:
    """Column blocks ``(transformer, column positions)`` + the steps after the column step."""

    blocks: list[tuple[Any, np.ndarray]]
    steps: list[Any]
    final: Any

    def transform(self, x: np.ndarray) -> np.ndarray:
        parts = []
        for est, cols in self.blocks:
            sub = x[:, cols]
            parts.append(sub.astype(np.float64) if est is None else est.transform(sub))
        xt = np.hstack(parts) if len(parts) > 1 else np.asarray(parts[0])
        for step in self.steps:
            xt = step.transform(xt)
        return xt

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.final.predict(self.transform(x)))

    def predict_with_proba(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xt = self.transform(x)
        return (
            np.asarray(self.final.predict(xt)),
            np.asarray(self.final.predict_proba(xt), dtype=np.float64),
        )


def _strip_names(est: Any) -> Any:
    """A copy that no longer checks DataFrame column names (it receives array slices)."""
    est = copy.deepcopy(est)
    for part in [est, *[s for _, s in getattr(est, "steps", [])]]:
        if "feature_names_in_" in vars(part):
            del part.feature_names_in_
    return est


def compile_pipeline(pipeline: Any, feature_names: list[str]) -> CompiledPipeline | None:
    """Express ``Pipeline([ColumnTransformer, *steps, estimator])`` on arrays, or ``None``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) < 2:
        return None
    first = pipeline.steps[0][1]
    if not isinstance(first, ColumnTransformer) or first.remainder != "drop":
        return None
    if getattr(first, "sparse_output_", False):
        return None
    position = {name: i for i, name in enumerate(feature_names)}
    blocks: list[tuple[Any, np.ndarray]] = []
    for _, est, cols in first.transformers_:
        if est == "drop" or (isinstance(cols, list) and not cols):
            continue
        if not isinstance(cols, list) or not all(c in position for c in cols):
            return None
        idx = np.array([position[c] for c in cols], dtype=np.intp)
        blocks.append((None if est == "passthrough" else _strip_names(est), idx))
    middle = [s for _, s in pipeline.steps[1:-1]]
    return CompiledPipeline(blocks=blocks, steps=middle, final=pipeline.steps[-1][1])


def parity_rows(schema: DataSchema, n: int = 64) -> list[dict[str, Any]]:
    """Records spanning each feature's training quantiles, categories and nulls."""
    rows: list[dict[str, Any]] = []
    for i in range(n):
        row: dict[str, Any] = {}
        for j, f in enumerate(schema.features):
            if f.kind == "categorical":
                cats = f.categories or ["missing"]
                row[f.name] = cats[(i + j) % len(cats)]
            else:
                qs = list((f.stats.get("quantiles") or {"0": f.min or 0.0}).values())
                lo, hi = (f.min or 0.0), (f.max if f.max is not None else 1.0)
                row[f.name] = (
                    qs[(i + j) % len(qs)] if i % 2 else lo + (hi - lo) * ((i * 7 + j) % n) / n
                )
            if f.nullable and (i + j) % 11 == 0:
                row[f.name] = None
        rows.append(row)
    return rows
