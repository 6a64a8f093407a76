"""A real fitted artifact from a small table, for tests that need a model but no pipeline run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from pr2prod.config.schema import FeaturesConfig
from pr2prod.data.schema import infer_schema
from pr2prod.models.build import build_preprocessor
from pr2prod.models.persist import LoadedModel, load_artifact, write_artifact


def fit_binary_artifact(
    train: pd.DataFrame, test: pd.DataFrame, target: str, id_column: str, dest: Path, name: str
) -> LoadedModel:
    """The standard features + logistic regression fitted on ``train``, saved to ``dest``."""
    schema = infer_schema(train, test, "binary", target, id_column)
    steps = build_preprocessor(FeaturesConfig(name="standard"), schema, "binary")
    pipeline = Pipeline([*steps, ("model", LogisticRegression())])
    pipeline.fit(train[schema.feature_names], train[target])
    write_artifact(dest, pipeline, schema, {"model_name": name})
    return load_artifact(dest)
