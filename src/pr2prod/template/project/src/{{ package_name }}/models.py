"""An example estimator of this project's own: the QuantileClipper inside a model pipeline.

conf/model/example_pipeline.yaml names one of these classes; `pr2prod compose
model=example_pipeline` selects it. A new model is one class here plus one file in conf/model/.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .transformers import QuantileClipper


class ClippedLogisticRegression(ClassifierMixin, BaseEstimator):
    """Clip features to their training quantiles, then a logistic regression."""

    def __init__(
        self,
        lower: float = 0.01,
        upper: float = 0.99,
        C: float = 1.0,
        max_iter: int = 1000,
        random_state: int = 0,
    ) -> None:
        self.lower = lower
        self.upper = upper
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ClippedLogisticRegression:
        self.pipeline_ = Pipeline(
            [
                ("clip", QuantileClipper(self.lower, self.upper)),
                (
                    "logreg",
                    LogisticRegression(
                        C=self.C, max_iter=self.max_iter, random_state=self.random_state
                    ),
                ),
            ]
        ).fit(X, y)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(X)


class ClippedRidge(RegressorMixin, BaseEstimator):
    """Clip features to their training quantiles, then a ridge regression."""

    def __init__(self, lower: float = 0.01, upper: float = 0.99, alpha: float = 1.0) -> None:
        self.lower = lower
        self.upper = upper
        self.alpha = alpha

    def fit(self, X: Any, y: Any) -> ClippedRidge:
        self.pipeline_ = Pipeline(
            [("clip", QuantileClipper(self.lower, self.upper)), ("ridge", Ridge(self.alpha))]
        ).fit(X, y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict(X)
