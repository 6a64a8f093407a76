"""Refresh the training data snapshot: a new ``.dvc`` pointer, ``dvc update`` or a SQL window.

Every source ends as a DVC-tracked file at ``data.path`` that the pipeline reads as a file
source, so ``dvc repro`` on the retraining commit reproduces from the pointer alone.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import yaml

from pr2prod.config.errors import ConfigError
from pr2prod.config.retrain_schema import SnapshotSource
from pr2prod.config.schema import Config
from pr2prod.retrain.report import SnapshotChange
from pr2prod.retrain.tools import run_tool

PARQUET = (".parquet", ".pq")


def pointer_of(path: str) -> str:
    """The ``.dvc`` file DVC writes for ``path``."""
    return f"{path}.dvc"


def read_pointer(root: Path, pointer: str) -> dict[str, Any] | None:
    """The parsed ``.dvc`` file (None: there is none)."""
    p = root / pointer
    if not p.is_file():
        return None
    data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else None


def pointer_md5(pointer: dict[str, Any] | None) -> str | None:
    """The md5 DVC recorded for the pointer's (first) output."""
    outs = (pointer or {}).get("outs") or []
    return str(outs[0]["md5"]) if outs and "md5" in outs[0] else None


def resolve_source(cfg: Config, root: Path) -> SnapshotSource:
    """``retrain.snapshot.source`` with ``auto`` decided from ``data.path``'s pointer.

    Raises:
        ConfigError: a data source that has no snapshot to refresh, or no ``data.path``.
    """
    if cfg.data.source != "file" or not cfg.data.path:
        raise ConfigError(
            f"data.source: {cfg.data.source!r} has no snapshot to refresh; pr2prod retrain "
            "needs data.source 'file' with data.path (a file, a dvc import or a SQL window)"
        )
    source = cfg.retrain.snapshot.source
    if source != SnapshotSource.auto:
        return source
    pointer = read_pointer(root, pointer_of(cfg.data.path))
    deps = (pointer or {}).get("deps") or []
    if any(isinstance(d, dict) and "repo" in d for d in deps):
        return SnapshotSource.dvc_import
    return SnapshotSource.file


def count_rows(path: Path) -> int | None:
    """Rows of a CSV or Parquet file (None: missing or another format)."""
    if not path.is_file():
        return None
    return count_rows_bytes(path.read_bytes(), path.suffix)


def count_rows_bytes(data: bytes, suffix: str) -> int | None:
    import pandas as pd

    if suffix.lower() in PARQUET:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(io.BytesIO(data)).metadata.num_rows)
    if suffix.lower() == ".csv":
        return len(pd.read_csv(io.BytesIO(data)))
    return None


def committed_rows(root: Path, path: str) -> int | None:
    """Rows of the version of ``path`` the last commit's pointer names (from the DVC cache or
    remote); None when it cannot be read."""
    import dvc.api

    try:
        with dvc.api.open(path, repo=str(root), rev="HEAD", mode="rb") as fh:
            return count_rows_bytes(fh.read(), Path(path).suffix)
    except Exception:  # an unreadable old version only loses a figure
        return None


def refresh(cfg: Config, root: Path, end: dt.datetime) -> SnapshotChange:
    """Refresh ``data.path`` from its source and return the change.

    Raises:
        ConfigError: a bad snapshot setting, naming its key.
        ToolError: ``dvc add``/``dvc update`` failed.
        DataError: the database cannot be read.
    """
    source = resolve_source(cfg, root)
    assert cfg.data.path is not None
    path, pointer = cfg.data.path, pointer_of(cfg.data.path)
    before = read_pointer(root, pointer)
    old_md5 = pointer_md5(before)
    old_rows = committed_rows(root, path) if before is not None else None
    query = None
    if source == SnapshotSource.dvc_import:
        if before is None:
            raise ConfigError(
                f"retrain.snapshot.source: dvc_import, but {pointer} does not exist; "
                f"create it with `dvc import <repo> <path> -o {path}`"
            )
        run_tool(["dvc", "update", pointer], root)
    elif source == SnapshotSource.sql:
        query = _write_sql_window(cfg, root / path, end)
        run_tool(["dvc", "add", path], root)
    else:
        if not (root / path).is_file():
            raise ConfigError(f"data.path: {path} does not exist; nothing to snapshot")
        run_tool(["dvc", "add", path], root)
    return SnapshotChange(
        source=str(source),
        path=path,
        pointer=pointer,
        old_md5=old_md5,
        new_md5=pointer_md5(read_pointer(root, pointer)),
        old_rows=old_rows,
        new_rows=count_rows(root / path),
        query=query,
    )


def _write_sql_window(cfg: Config, target: Path, end: dt.datetime) -> dict[str, Any]:
    from pr2prod.fsio import atomic_write_bytes
    from pr2prod.retrain.sql import read_window

    if target.suffix.lower() not in PARQUET:
        raise ConfigError(
            f"data.path: {cfg.data.path} must be a .parquet file for a SQL snapshot "
            "(retrain.snapshot.source: sql)"
        )
    frame, facts = read_window(cfg.retrain.snapshot.sql, end)
    if frame.empty:
        from pr2prod.errors import DataError

        raise DataError(
            f"retrain.snapshot.sql: the window {facts['start']} .. {facts['end']} of "
            f"{facts['table']!r} holds no rows; nothing to train on"
        )
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    atomic_write_bytes(target, buf.getvalue())
    return facts
