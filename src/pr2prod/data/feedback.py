"""The feedback-loop guard: leave out rows whose label the current model influenced.

Once a model is in production its predictions shape what happens next: a fraud score decides
which cases are investigated (and so which get a label), a recommendation decides what is
clicked. Retraining on those labels teaches the model its own past decisions and the loop
amplifies its mistakes. A project marks such rows with a column (``data.feedback_guard``);
the prepare stage drops them, so the exclusion is part of the reproducible pipeline
(docs/continuous.md, "Feedback-loop guard").
"""

from __future__ import annotations

import pandas as pd

from pr2prod.config.errors import ConfigError
from pr2prod.config.schema import FeedbackGuardConfig


def apply_feedback_guard(df: pd.DataFrame, cfg: FeedbackGuardConfig) -> tuple[pd.DataFrame, int]:
    """``df`` without the marked rows and without the marker column; and how many were left out.

    The guard is off (``df`` unchanged) when ``cfg.column`` is null. Values are compared as
    text, so ``1``, ``"1"`` and ``1.0`` from CSV or Parquet mark alike.

    Raises:
        ConfigError: a column the data lacks, or no values, naming the key.
    """
    if not cfg.column:
        return df, 0
    if cfg.column not in df.columns:
        raise ConfigError(
            f"data.feedback_guard.column: {cfg.column!r} not in the data; "
            f"columns: {', '.join(map(str, df.columns))}"
        )
    if not cfg.values:
        raise ConfigError(
            "data.feedback_guard.values: required when data.feedback_guard.column is set "
            "(the marker values whose rows are left out)"
        )
    marks = {_text(v) for v in cfg.values}
    marked = df[cfg.column].map(_text).isin(marks)
    kept = df.loc[~marked].drop(columns=cfg.column).reset_index(drop=True)
    return kept, int(marked.sum())


def _text(value: object) -> str:
    """A marker value as text: whole floats without ``.0``, booleans lower-case."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().lower()
