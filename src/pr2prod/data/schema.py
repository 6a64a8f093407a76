"""The data schema: features, types, ranges, labels and reference statistics.

Written by ``prepare`` as ``schema.json``; shipped inside the model artifact; read by
validation, serving (request model), batch scoring and drift monitoring.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SCHEMA_VERSION = 1
N_BINS = 10
QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
# A numeric feature with at most this many distinct training values also stores each value's
# share (``stats["values"]``), so drift checks can treat it as discrete (see monitor/drift.py).
MAX_STORED_VALUES = 100


@dataclass
class FeatureSpec:
    """One input column."""

    name: str
    kind: str  # numeric | categorical
    dtype: str
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataSchema:
    """What a model expects as input and what its training data looked like."""

    task: str
    target: str
    id_column: str
    features: list[FeatureSpec]
    labels: list[Any] | None
    n_rows: dict[str, int]
    target_stats: dict[str, Any] = field(default_factory=dict)
    version: int = SCHEMA_VERSION

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def numeric(self) -> list[str]:
        return [f.name for f in self.features if f.kind == "numeric"]

    @property
    def categorical(self) -> list[str]:
        return [f.name for f in self.features if f.kind == "categorical"]

    def feature(self, name: str) -> FeatureSpec:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataSchema:
        feats = [FeatureSpec(**f) for f in data["features"]]
        return cls(**{**data, "features": feats})

    @classmethod
    def load(cls, path: str | Path) -> DataSchema:
        import json

        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def is_categorical(series: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def numeric_stats(values: pd.Series) -> dict[str, Any]:
    """Reference statistics for drift checks: moments, quantiles, a histogram.

    The values are sorted once; the quantiles (numpy's linear method, all in one call) and
    the distinct values are read from the sorted copy, exactly as from the unsorted one.
    """
    v = values.dropna().to_numpy(dtype="float64")
    if v.size == 0:
        return {"count": 0}
    lo, hi = float(v.min()), float(v.max())
    edges = np.linspace(lo, hi, N_BINS + 1) if hi > lo else np.array([lo, lo + 1.0])
    counts, _ = np.histogram(v, bins=edges)
    ordered = np.sort(v)
    quantiles = np.quantile(ordered, QUANTILES)
    return {
        "count": int(v.size),
        "mean": float(v.mean()),
        "std": float(v.std()),
        "quantiles": {str(q): float(x) for q, x in zip(QUANTILES, quantiles, strict=True)},
        "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
        "null_share": float(values.isna().mean()),
        **discrete_stats(ordered, assume_sorted=True),
    }


def value_key(value: float) -> str:
    """The text key of one numeric value in ``stats["values"]`` (``2014``, ``0.0507``...)."""
    v = float(value)
    return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)


def discrete_stats(v: np.ndarray, assume_sorted: bool = False) -> dict[str, Any]:
    """``distinct`` (number of distinct values) and, for at most ``MAX_STORED_VALUES`` of
    them, ``values``: each value's share of the rows, keyed by :func:`value_key`.

    ``assume_sorted``: ``v`` is already in ascending order without NaN (what
    :func:`numeric_stats` passes); the runs of equal values are counted without sorting again,
    as :func:`numpy.unique` would count them.
    """
    if assume_sorted and v.size:
        starts = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
        uniq, counts = v[starts], np.diff(np.append(starts, v.size))
    else:
        uniq, counts = np.unique(v, return_counts=True)
    out: dict[str, Any] = {"distinct": int(uniq.size)}
    if uniq.size <= MAX_STORED_VALUES:
        out["values"] = {value_key(u): float(c / v.size) for u, c in zip(uniq, counts, strict=True)}
    return out


def categorical_stats(values: pd.Series) -> dict[str, Any]:
    freq = values.dropna().astype(str).value_counts(normalize=True).sort_index()
    return {
        "count": int(values.notna().sum()),
        "frequencies": {str(k): float(p) for k, p in freq.items()},
        "null_share": float(values.isna().mean()),
    }


def infer_schema(
    train: pd.DataFrame, test: pd.DataFrame, task: str, target: str, id_column: str
) -> DataSchema:
    """Build the schema from the training split (the reference) and row counts of both."""
    feats: list[FeatureSpec] = []
    for col in train.columns:
        if col in (target, id_column):
            continue
        s = train[col]
        nullable = bool(s.isna().any() or test[col].isna().any())
        if is_categorical(s):
            cats = sorted(s.dropna().astype(str).unique().tolist())
            feats.append(
                FeatureSpec(
                    col,
                    "categorical",
                    "string",
                    nullable,
                    categories=cats,
                    stats=categorical_stats(s),
                )
            )
        else:
            feats.append(
                FeatureSpec(
                    col,
                    "numeric",
                    str(s.dtype),
                    nullable,
                    min=_num(s.min()),
                    max=_num(s.max()),
                    stats=numeric_stats(s),
                )
            )
    y = train[target]
    if task == "regression":
        labels = None
        target_stats = numeric_stats(y)
    else:
        labels = sorted(pd.concat([y, test[target]]).dropna().unique().tolist())
        target_stats = categorical_stats(y)
    return DataSchema(
        task=task,
        target=target,
        id_column=id_column,
        features=feats,
        labels=[_py(v) for v in labels] if labels is not None else None,
        n_rows={"train": len(train), "test": len(test)},
        target_stats=target_stats,
    )


def _num(v: Any) -> float | None:
    return None if pd.isna(v) else float(v)


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v
