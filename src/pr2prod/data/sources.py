"""Load a raw table from the configured source: bundled sklearn sets, synthetic, file."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from pr2prod.config.choices import ColumnType, Source, choose
from pr2prod.config.errors import ConfigError
from pr2prod.config.schema import SKLEARN_DATASETS, DataConfig, SyntheticConfig
from pr2prod.data.target import check_target

ID_COLUMN = "row_id"


def clean_name(name: str) -> str:
    """Column names usable as identifiers everywhere (pydantic fields, SQL, URLs)."""
    cleaned = re.sub(r"\W+", "_", str(name).strip()).strip("_").lower()
    return cleaned or "col"


def load_table(cfg: DataConfig, root: str | Path = ".") -> pd.DataFrame:
    """Return the raw table with clean column names, the target and an id column.

    Raises:
        ConfigError: unknown data set, missing file, missing target or id column, a target
            that contradicts ``data.task``, a ``column_types`` entry the data contradicts.
    """
    source = choose(Source, cfg.source, "data.source")
    if source is Source.sklearn:
        df = _load_sklearn(cfg)
    elif source is Source.synthetic:
        df = make_synthetic(cfg.synthetic, cfg.task).rename(columns={"target": cfg.target})
        check_target(df[cfg.target], cfg.task)
    else:
        df = _load_file(cfg, Path(root))
        check_target(df[cfg.target], cfg.task)
    id_col = cfg.id_column or ID_COLUMN
    if id_col not in df.columns:
        df.insert(0, id_col, np.arange(len(df), dtype=np.int64))
    return df


def _load_sklearn(cfg: DataConfig) -> pd.DataFrame:
    from sklearn import datasets

    if cfg.dataset not in SKLEARN_DATASETS:
        raise ConfigError(
            f"data.dataset: {cfg.dataset!r} is not one of {', '.join(SKLEARN_DATASETS)}"
        )
    bunch = getattr(datasets, f"load_{cfg.dataset}")(as_frame=True)
    frame = bunch.frame.copy()
    frame.columns = [clean_name(c) for c in frame.columns]
    frame = frame.rename(columns={"target": cfg.target})
    check_target(frame[cfg.target], cfg.task)
    if cfg.task == "regression":
        frame[cfg.target] = frame[cfg.target].astype("float64")
    else:
        frame[cfg.target] = frame[cfg.target].astype("int64")
    return frame


def _load_file(cfg: DataConfig, root: Path) -> pd.DataFrame:
    if not cfg.path:
        raise ConfigError("data.path: required when data.source is 'file'")
    path = root / cfg.path
    if not path.exists():
        raise ConfigError(
            f"data.path: {cfg.path} does not exist (run `dvc pull {cfg.path}.dvc` if it is tracked)"
        )
    if path.suffix.lower() in {".parquet", ".pq"}:
        df = pd.read_parquet(path)
    elif path.suffix.lower() == ".csv":
        df = pd.read_csv(path)
    else:
        raise ConfigError(f"data.path: {cfg.path}: expected a .csv or .parquet file")
    df.columns = [clean_name(c) for c in df.columns]
    for key, col in (("data.target", cfg.target), ("data.id_column", cfg.id_column)):
        if col and col not in df.columns:
            raise ConfigError(
                f"{key}: column {col!r} not in {cfg.path}; columns: {', '.join(df.columns)}"
            )
    for col, kind in cfg.column_types.items():
        if col not in df.columns:
            raise ConfigError(
                f"data.column_types.{col}: column {col!r} not in {cfg.path}; "
                f"columns: {', '.join(df.columns)}"
            )
        key = f"data.column_types.{col}"
        df[col] = declare_type(df[col], choose(ColumnType, kind, key), key)
    return df


def declare_type(values: pd.Series, kind: ColumnType, key: str) -> pd.Series:
    """The column as its declared type, stored as an auto-detected column of that type is.

    Categorical values become pandas' default string dtype (missing values stay NaN, as
    ``read_csv`` gives them); numeric ones float64.

    Raises:
        ConfigError: naming ``key`` when a value cannot be a number.
    """
    if kind is ColumnType.categorical:
        return values.astype(pd.StringDtype(na_value=np.nan))
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values[numbers.isna() & values.notna()]
    if len(bad):
        sample = ", ".join(repr(v) for v in bad.unique()[:3])
        raise ConfigError(
            f"{key}: declared numeric, but column {values.name!r} holds {len(bad)} "
            f"non-numeric value(s), e.g. {sample}; declare it categorical or fix the data"
        )
    return numbers.astype("float64")


def make_synthetic(cfg: SyntheticConfig, task: str) -> pd.DataFrame:
    """A seeded table with numeric columns f0.., categorical c0.. and a target."""
    import pyarrow as pa
    from sklearn.datasets import make_classification, make_regression

    rng = np.random.default_rng(cfg.seed)
    n_inf = min(cfg.n_informative, cfg.n_features)
    if task == "regression":
        x, y = make_regression(
            n_samples=cfg.n_rows,
            n_features=cfg.n_features,
            n_informative=n_inf,
            noise=cfg.noise * 10,
            random_state=cfg.seed,
        )
    else:
        x, y = make_classification(
            n_samples=cfg.n_rows,
            n_features=cfg.n_features,
            n_informative=n_inf,
            n_redundant=0,
            n_classes=cfg.n_classes,
            flip_y=cfg.noise,
            random_state=cfg.seed,
        )
    df = pd.DataFrame(x, columns=[f"f{i}" for i in range(cfg.n_features)])
    del x  # the frame holds its own copy
    names = pa.array([f"cat{k}" for k in range(cfg.n_categories)])
    for j in range(cfg.n_categorical):
        codes = rng.integers(0, cfg.n_categories, size=cfg.n_rows)
        # the category names taken by code in Arrow: the values "cat<code>", no Python str
        df[f"c{j}"] = pd.array(names.take(pa.array(codes)), dtype="string")
        if task == "regression":
            y = y + (codes - cfg.n_categories / 2) * 5.0
        else:
            # tie the category to the label a little, so one-hot columns carry signal
            flip = (codes == 0) & (rng.random(cfg.n_rows) < 0.3)
            y = np.where(flip, 0, y)
    df["target"] = y.astype("float64" if task == "regression" else "int64")
    return df
