"""Plot tables of the evaluate stage are valid JSON and say which curve they draw (issue 20 §8)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pr2prod.evaluate.plots import CORRECT_VS_INCORRECT, classification_plots

pytestmark = [pytest.mark.unit]


def _dump(plots: dict) -> str:
    return json.dumps(plots, allow_nan=False)  # raises on NaN / inf, as a JSON reader would


def test_a_multiclass_split_without_errors_writes_valid_json() -> None:
    y = np.array([0, 1, 2] * 10)
    proba = np.eye(3)[y] * 0.8 + 0.2 / 3  # every top label right
    plots = classification_plots(y, y.copy(), proba, [0, 1, 2], bins=5, points=50)
    _dump(plots)
    assert plots["roc"] == []  # undefined without an incorrect prediction: no points, no NaN
    assert all(r["curve"] == CORRECT_VS_INCORRECT for r in plots["pr"] + plots["calibration"])


def test_the_multiclass_curve_is_labelled_and_binary_names_its_positive_label() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    proba = rng.dirichlet(np.ones(3), 200)
    plots = classification_plots(y, proba.argmax(axis=1), proba, [0, 1, 2], bins=5, points=50)
    _dump(plots)
    assert plots["roc"] and {r["curve"] for r in plots["roc"]} == {CORRECT_VS_INCORRECT}
    assert "top probability" in CORRECT_VS_INCORRECT
    yb = rng.integers(0, 2, 200)
    pb = rng.dirichlet(np.ones(2), 200)
    binary = classification_plots(yb, pb.argmax(axis=1), pb, [0, 1], bins=5, points=50)
    assert {r["curve"] for r in binary["roc"]} == {"1 vs rest"}
