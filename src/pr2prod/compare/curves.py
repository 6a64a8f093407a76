"""Both models' curves for the gate report, drawn with DVC's own plot templates.

The data are the same tables the ``evaluate`` stage writes for ``dvc plots`` (ROC and
precision-recall for a classifier with probabilities, predicted-vs-actual for a regressor),
one per model, tagged ``rev: production | candidate`` as ``dvc plots diff`` tags revisions.
They are drawn by :func:`pr2prod.evaluate.render.render_svg` with the template, ``x`` and
``y`` that ``dvc.yaml``'s ``plots:`` section gives each table, so the images in ``gate.md``
look like ``dvc plots diff`` and a CML report.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pr2prod.compare.sums import Paired
from pr2prod.evaluate.plots import classification_plots, regression_plots

CLASSIFICATION_CURVES = ("roc", "pr")
REGRESSION_CURVES = ("pred_actual",)
POINTS = 51  # points kept per curve and model: enough for the shape, small in gate.json
SIDES = (("production", "b"), ("candidate", "c"))


def curve_rows(
    paired: Paired, labels: list[Any], has_baseline: bool = True
) -> dict[str, list[dict[str, Any]]]:
    """Curve tables of both models (the candidate's alone on a first release), keyed by plot
    name, each row tagged with ``rev``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rev, side in SIDES if has_baseline else SIDES[1:]:
        pred = paired.pred_c if side == "c" else paired.pred_b
        if paired.task == "regression":
            rows = regression_plots(paired.y, pred)
            names: tuple[str, ...] = REGRESSION_CURVES
            rows = {n: rows[n][:: max(1, len(rows[n]) // (4 * POINTS))] for n in names}
        else:
            proba = paired.proba_c if side == "c" else paired.proba_b
            if proba is None:
                return {}
            classes = np.arange(paired.n_classes)
            rows = classification_plots(paired.y, pred, proba, list(classes), 2, POINTS)
            names = CLASSIFICATION_CURVES
        for name in names:
            out.setdefault(name, []).extend({**row, "rev": rev} for row in rows[name])
    # a curve without points (a ROC on a split without errors is undefined) is no image
    return {name: rows for name, rows in out.items() if rows}
