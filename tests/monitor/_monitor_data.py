"""Data sets monitored against their own training reference, set up the way the pipeline
does it: ``schema.json`` from the real ``infer_schema``, the training split as a scored batch
with a real model's predictions, and a ``MonitorConfig`` pointing at them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pr2prod.config.hydra_compose import compose_dict
from pr2prod.config.loader import to_config
from pr2prod.config.monitor_schema import AlertConfig, DriftConfig, MonitorConfig, ScoreConfig
from pr2prod.data.schema import infer_schema

REPO = Path(__file__).resolve().parents[2]


def default_drift(**changes: object) -> DriftConfig:
    """The drift settings conf/ composes (the defaults live there only), with ``changes``."""
    drift = to_config(compose_dict(REPO / "conf")).monitor.drift
    for key, value in changes.items():
        setattr(drift, key, value)
    return drift


def small_integers(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """A ``year`` with 8 values, a ``rooms`` count with 5, a 0/1 flag and a continuous ``x``."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "year": rng.choice(np.arange(2010, 2018), n, p=np.linspace(1, 2, 8) / 12),
            "rooms": rng.integers(1, 6, n),
            "garage": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
        }
    )
    df["target"] = (df["x"] + 0.2 * (df["year"] - 2014) + rng.normal(size=n) > 0).astype(int)
    return df, "binary"


def sklearn_set(name: str) -> tuple[pd.DataFrame, str]:
    data = load_breast_cancer if name == "breast_cancer" else load_diabetes
    df = data(as_frame=True).frame
    df.columns = [c.replace(" ", "_") for c in df.columns]
    return df, "binary" if name == "breast_cancer" else "regression"


DATASETS = {
    "breast_cancer": lambda: sklearn_set("breast_cancer"),  # the default data
    "diabetes": lambda: sklearn_set("diabetes"),  # `sex` has two values, `s4` 66 with ties
    "small_integers": small_integers,
}


@dataclass
class Monitored:
    cfg: MonitorConfig
    train: pd.DataFrame
    model_dir: Path
    features: list[str]


def setup(tmp: Path, df: pd.DataFrame, task: str) -> Monitored:
    """schema.json from the training split, the split as a batch and a model's predictions."""
    df = df.assign(row_id=np.arange(len(df)))
    train, test = train_test_split(df, test_size=0.2, random_state=0)
    schema = infer_schema(train, test, task, "target", "row_id")
    model_dir = tmp / "model"
    model_dir.mkdir()
    (model_dir / "schema.json").write_text(json.dumps(schema.to_dict()))
    x = train[schema.feature_names]
    est = LinearRegression() if task == "regression" else LogisticRegression(max_iter=1000)
    pred = make_pipeline(StandardScaler(), est).fit(x, train["target"]).predict(x)
    train.to_parquet(tmp / "input.parquet")
    pd.DataFrame({"row_id": train["row_id"], "prediction": pred, "model_version": "v1"}).to_parquet(
        tmp / "predictions.parquet"
    )
    cfg = MonitorConfig(
        score=ScoreConfig(model=str(model_dir)),
        source="scored",
        scored_input=str(tmp / "input.parquet"),
        scored_predictions=str(tmp / "predictions.parquet"),
        window_days=None,
        drift=default_drift(),
        alert=AlertConfig(flag_file=str(tmp / "reports/monitor_alert.md")),
        report_dir=str(tmp / "reports"),
        plots_dir=str(tmp / "reports/monitor_plots"),
    )
    return Monitored(cfg, train, model_dir, schema.feature_names)
