"""A window of a SQL table as a DataFrame (SQLAlchemy Core: no SQL text is pasted together)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from pr2prod.config.errors import ConfigError
from pr2prod.config.retrain_schema import SqlSnapshotConfig
from pr2prod.errors import DataError, database_errors


def window_bounds(
    cfg: SqlSnapshotConfig, end: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime]:
    """``[start, end)`` of the window: ``window_days`` before ``end`` (None: no lower bound)."""
    start = end - dt.timedelta(days=cfg.window_days) if cfg.window_days is not None else None
    return start, end


def read_window(cfg: SqlSnapshotConfig, end: dt.datetime) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rows of ``cfg.table`` with ``start <= window_column < end``, ordered by it.

    Returns:
        The rows and the query as recorded in the report (table, column, bounds, rows).

    Raises:
        ConfigError: a missing setting, unknown table or column, naming the key.
        DataError: the database cannot be reached (``retrain.snapshot.sql.url: database
            <url> unreachable: ...``) or read.
    """
    import sqlalchemy as sa

    for key in ("url", "table", "window_column"):
        if not getattr(cfg, key):
            raise ConfigError(f"retrain.snapshot.sql.{key}: required for a SQL snapshot")
    assert cfg.url is not None
    assert cfg.table is not None
    assert cfg.window_column is not None
    try:
        engine = sa.create_engine(cfg.url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"retrain.snapshot.sql.url: {exc}") from exc
    start, end = window_bounds(cfg, end)
    try:
        with database_errors("retrain.snapshot.sql.url", cfg.url):  # unreachable: one line
            table = _table(engine, cfg.table)
            col = _column(table, cfg.window_column, "retrain.snapshot.sql.window_column")
            cols = [_column(table, c, "retrain.snapshot.sql.columns") for c in cfg.columns]
            query = sa.select(*cols) if cols else sa.select(table)
            query = query.where(col < end)
            if start is not None:
                query = query.where(col >= start)
            query = query.order_by(col)
            with engine.connect() as conn:
                frame = pd.read_sql_query(query, conn)
    except sa.exc.SQLAlchemyError as exc:  # any other failure to read it
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"retrain.snapshot.sql: cannot read {cfg.table!r}: {first}") from exc
    finally:
        engine.dispose()
    facts = {
        "table": cfg.table,
        "window_column": cfg.window_column,
        "start": start.isoformat() if start else None,
        "end": end.isoformat(),
        "rows": len(frame),
    }
    return frame, facts


def _table(engine: Any, name: str) -> Any:
    import sqlalchemy as sa

    if not sa.inspect(engine).has_table(name):
        raise ConfigError(f"retrain.snapshot.sql.table: no table {name!r} in {engine.url!r}")
    return sa.Table(name, sa.MetaData(), autoload_with=engine)


def _column(table: Any, name: str, key: str) -> Any:
    if name not in table.c:
        raise ConfigError(
            f"{key}: no column {name!r} in {table.name!r}; columns: {', '.join(table.c.keys())}"
        )
    return table.c[name]
