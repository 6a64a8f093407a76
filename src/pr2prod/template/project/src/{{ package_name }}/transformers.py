"""An example transformer: clip each feature to the quantiles seen at fit time."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class QuantileClipper(TransformerMixin, BaseEstimator):
    """Clip every column to its [lower, upper] quantiles of the training data.

    A scikit-learn transformer like any other: constructor arguments are its config keys,
    fitted state ends with ``_``. Outliers at serving time cannot push the model beyond
    what it saw in training.
    """

    def __init__(self, lower: float = 0.01, upper: float = 0.99) -> None:
        self.lower = lower
        self.upper = upper

    def fit(self, X: Any, y: Any = None) -> QuantileClipper:
        if not 0.0 <= self.lower < self.upper <= 1.0:
            raise ValueError(
                f"QuantileClipper: need 0 <= lower < upper <= 1, got {self.lower}, {self.upper}"
            )
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        self.low_ = np.nanquantile(X, self.lower, axis=0)
        self.high_ = np.nanquantile(X, self.upper, axis=0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, ("low_", "high_"))
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        return np.clip(X, self.low_, self.high_)
