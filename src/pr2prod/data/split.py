"""Deterministic train/test split in stable row order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split


def split_frame(
    df: pd.DataFrame, target: str, test_size: float, stratify: bool, seed: int, task: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows (stratified for classification), each part kept in the source order.

    scikit-learn draws the split from the row count and the labels alone, so it is drawn on
    row positions and each part is taken once, already in source order: the same rows as
    splitting the frame itself and sorting each part by its index, without the two copies
    that costs (a frame whose index is not its row order takes that slower path).
    """
    strat = df[target] if stratify and task != "regression" else None
    if not (isinstance(df.index, pd.RangeIndex) and df.index.step > 0):
        train, test = train_test_split(df, test_size=test_size, random_state=seed, stratify=strat)
        return train.sort_index().reset_index(drop=True), test.sort_index().reset_index(drop=True)
    rows = np.arange(len(df))
    train_rows, test_rows = train_test_split(
        rows, test_size=test_size, random_state=seed, stratify=strat
    )
    return (
        df.take(np.sort(train_rows)).reset_index(drop=True),
        df.take(np.sort(test_rows)).reset_index(drop=True),
    )
