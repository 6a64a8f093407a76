"""Score records with the one artifact: records in, labels/probabilities or values out.

The artifact's pipeline is loaded once (``load_artifact``). Records become one 2-D array in
``schema.feature_names`` order; the compiled numpy path scores it when it passed the parity
check at load time, otherwise the native pipeline scores a DataFrame built from the array.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pr2prod.models.identity import artifact_id, default_version
from pr2prod.models.persist import LoadedModel, load_artifact
from pr2prod.serving.fastpath import CompiledPipeline, compile_pipeline, parity_rows


@dataclass
class ModelInfo:
    """What every response and log line says about the model that answered."""

    name: str
    version: str
    artifact_hash: str
    task: str

    def as_dict(self) -> dict[str, str]:
        return {
            "model_name": self.name,
            "model_version": self.version,
            "artifact_hash": self.artifact_hash,
        }


@dataclass
class Scores:
    """Outputs for a batch of records (``proba`` only for classifiers that have it)."""

    pred: np.ndarray
    proba: np.ndarray | None
    labels: list[Any] = field(default_factory=list)

    def output(self, i: int) -> dict[str, Any]:
        """The response fields of record ``i``."""
        if not self.labels:
            return {"value": float(self.pred[i])}
        out: dict[str, Any] = {"label": _py(self.pred[i])}
        if self.proba is not None:
            out["probabilities"] = {
                str(lab): float(p) for lab, p in zip(self.labels, self.proba[i], strict=True)
            }
        return out


class Predictor:
    """The artifact ready to score: pipeline, schema, model info, scoring path."""

    def __init__(
        self, model: LoadedModel, version: str | None = None, fast_path: bool = True
    ) -> None:
        self.model = model
        self.schema = model.schema
        self.names = model.schema.feature_names
        self.task = model.schema.task
        digest = artifact_id(model.path)
        self.info = ModelInfo(
            name=model.name,
            version=version or default_version(digest),
            artifact_hash=digest,
            task=self.task,
        )
        self._has_proba = self.task != "regression" and hasattr(model.pipeline, "predict_proba")
        self._labels = list(getattr(model.pipeline, "classes_", model.schema.labels or []))
        cats = set(model.schema.categorical)
        self._object = bool(cats)
        self._cat_pos = [i for i, n in enumerate(self.names) if n in cats]
        self._num_pos = np.array([i for i, n in enumerate(self.names) if n not in cats], np.intp)
        self._lo = np.array(
            [_bound(model.schema.feature(self.names[i]).min, -math.inf) for i in self._num_pos]
        )
        self._hi = np.array(
            [_bound(model.schema.feature(self.names[i]).max, math.inf) for i in self._num_pos]
        )
        self.compiled: CompiledPipeline | None = None
        self.parity: str = "disabled"
        if fast_path:
            self._try_compile()

    @classmethod
    def from_dir(
        cls,
        path: str | Path,
        version: str | None = None,
        fast_path: bool = True,
        trusted_packages: Sequence[str] = (),
    ) -> Predictor:
        """Load the artifact; ``trusted_packages``: the team's packages its classes may be in."""
        return cls(
            load_artifact(path, trusted_packages=trusted_packages),
            version=version,
            fast_path=fast_path,
        )

    def _try_compile(self) -> None:
        compiled = compile_pipeline(self.model.pipeline, self.names)
        if compiled is None:
            self.parity = "unsupported pipeline: native path"
            return
        x = self.to_array(parity_rows(self.schema))
        native = self._score_native(x)
        self.compiled = compiled
        try:
            fast = self._score_compiled(x)
            same = np.array_equal(native.pred, fast.pred) and (
                native.proba is None
                or (fast.proba is not None and np.array_equal(native.proba, fast.proba))
            )
        except Exception as exc:  # any failure of the compiled path means: use native
            same, why = False, f"{type(exc).__name__}: {exc}"
        else:
            why = "outputs differ"
        if same:
            self.parity = f"passed on {len(x)} rows: compiled path"
        else:
            self.compiled = None
            self.parity = f"failed ({why}): native path"

    def to_array(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Records (mappings by feature name) -> array in feature order; None -> NaN."""
        rows = [[r.get(n) for n in self.names] for r in records]
        if not self._object:
            return np.array(rows, dtype=np.float64).reshape(len(rows), len(self.names))
        x = np.array(rows, dtype=object).reshape(len(rows), len(self.names))
        x[x == None] = np.nan  # noqa: E711 - elementwise comparison on an object array
        return x

    def out_of_range(self, x: np.ndarray) -> list[str]:
        """Numeric features with any value outside the training [min, max] in ``x``."""
        if not len(self._num_pos):
            return []
        v = x[:, self._num_pos].astype(np.float64)
        with np.errstate(invalid="ignore"):
            bad = ((v < self._lo) | (v > self._hi)).any(axis=0)
        return [self.names[self._num_pos[i]] for i in np.flatnonzero(bad)]

    def score(self, x: np.ndarray) -> Scores:
        """Score an array from :meth:`to_array`."""
        return self._score_compiled(x) if self.compiled is not None else self._score_native(x)

    def _score_compiled(self, x: np.ndarray) -> Scores:
        assert self.compiled is not None
        if self._has_proba:
            pred, proba = self.compiled.predict_with_proba(x)
            return Scores(pred, proba, self._labels)
        return Scores(self.compiled.predict(x), None, self._labels if self._is_clf else [])

    def _score_native(self, x: np.ndarray) -> Scores:
        import pandas as pd

        df = pd.DataFrame(x, columns=self.names)
        for i in self._num_pos:
            df[self.names[i]] = df[self.names[i]].astype(np.float64)
        pred = np.asarray(self.model.pipeline.predict(df))
        proba = (
            np.asarray(self.model.pipeline.predict_proba(df), dtype=np.float64)
            if self._has_proba
            else None
        )
        return Scores(pred, proba, self._labels if self._is_clf else [])

    @property
    def _is_clf(self) -> bool:
        return self.task != "regression"


def _bound(v: float | None, default: float) -> float:
    return default if v is None else float(v)


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v
