"""Deterministic train/test split in stable row order."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split


def split_frame(
    df: pd.DataFrame, target: str, test_size: float, stratify: bool, seed: int, task: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows (stratified for classification), each part kept in the source order."""
    strat = df[target] if stratify and task != "regression" else None
    train, test = train_test_split(df, test_size=test_size, random_state=seed, stratify=strat)
    return train.sort_index().reset_index(drop=True), test.sort_index().reset_index(drop=True)
