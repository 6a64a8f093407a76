"""Database output through SQLAlchemy: an upsert keyed by (row_id, model_version).

SQLite and PostgreSQL use ``INSERT ... ON CONFLICT DO UPDATE``; any other dialect deletes the
chunk's keys and inserts them again in the same transaction. Either way a re-run replaces rows
instead of adding them. Each chunk commits on its own, so an interrupted run leaves whole
chunks, and running it again completes it.

A SQLite file the sink creates is owner-only (``0o600``): it holds scored rows. A database
that cannot be reached is a data error naming ``monitor.score.database_url``
(:func:`pr2prod.errors.database_errors`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import pandas as pd
import sqlalchemy as sa

from pr2prod.config.errors import ConfigError
from pr2prod.errors import DataError, database_errors, mask_passwords
from pr2prod.fsio import create_private_file

REJECTS_SUFFIX = "_rejects"
KEY = "monitor.score.database_url"  # the config key of the URL (`pr2prod score --db` sets it)


class SchemaMismatchError(DataError, ValueError):
    """An existing table does not have the columns this model writes."""


def prediction_table(meta: sa.MetaData, name: str, sample: pd.DataFrame) -> sa.Table:
    """Table definition for predictions shaped like ``sample`` (row id type included)."""
    cols = [sa.Column(c, _sql_type(sample[c]), nullable=c != "row_id") for c in sample.columns]
    return sa.Table(
        name, meta, *cols, sa.PrimaryKeyConstraint("row_id", "model_version", name=f"pk_{name}")
    )


def rejects_table(meta: sa.MetaData, name: str) -> sa.Table:
    """Rejected rows: where they were in the input, their id (as text) and why."""
    return sa.Table(
        name,
        meta,
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("input_row", sa.BigInteger, nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("row_id", sa.String(255)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("source", "input_row", "model_version", name=f"pk_{name}"),
    )


class SqlSink:
    """Write prediction and reject chunks to a database URL."""

    def __init__(
        self, url: str, table: str, sample: pd.DataFrame, source: str, model_version: str
    ) -> None:
        """Connect and create the tables.

        Raises:
            ConfigError: a URL SQLAlchemy cannot use (malformed, driver not installed).
            DataError: the database cannot be reached, or a table has other columns.
        """
        self.url = url
        try:
            self.engine = sa.create_engine(url)
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"{KEY}: {mask_passwords(str(exc))}") from exc
        _create_private_sqlite(self.engine.url)
        meta = sa.MetaData()
        self.predictions = prediction_table(meta, table, sample)
        self.rejects = rejects_table(meta, table + REJECTS_SUFFIX)
        with self._reaching():
            self._check_existing(meta)
            meta.create_all(self.engine)
        self.source = source
        self.model_version = model_version

    def _reaching(self) -> AbstractContextManager[None]:
        """Database failures inside as one-line data errors naming the key and URL."""
        return database_errors(KEY, self.url)

    def write(self, predictions: pd.DataFrame, rejects: pd.DataFrame) -> None:
        """Upsert one chunk (predictions and rejects) in one transaction."""
        with self._reaching(), self.engine.begin() as conn:
            if len(predictions):
                self._upsert(conn, self.predictions, _records(predictions))
            if len(rejects):
                rows = rejects.assign(source=self.source, model_version=self.model_version)
                self._upsert(conn, self.rejects, _records(rows))

    def count(self, model_version: str) -> tuple[int, int]:
        """Rows stored for ``model_version``: (predictions, rejects of this source)."""
        with self._reaching(), self.engine.connect() as conn:
            n_pred = conn.execute(
                sa.select(sa.func.count())
                .select_from(self.predictions)
                .where(self.predictions.c.model_version == model_version)
            ).scalar_one()
            n_rej = conn.execute(
                sa.select(sa.func.count())
                .select_from(self.rejects)
                .where(
                    self.rejects.c.model_version == model_version,
                    self.rejects.c.source == self.source,
                )
            ).scalar_one()
        return int(n_pred), int(n_rej)

    def close(self) -> None:
        self.engine.dispose()

    def _upsert(self, conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        keys = [c.name for c in table.primary_key.columns]
        dialect = conn.dialect.name
        if dialect in ("sqlite", "postgresql"):
            from sqlalchemy.dialects import postgresql, sqlite

            insert: Any = sqlite.insert if dialect == "sqlite" else postgresql.insert
            stmt = insert(table)
            stmt = stmt.on_conflict_do_update(
                index_elements=keys,
                set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
            )
            conn.execute(stmt, rows)
            return
        for start in range(0, len(rows), 500):
            part = rows[start : start + 500]
            cond = sa.or_(*[sa.and_(*[table.c[k] == r[k] for k in keys]) for r in part])
            conn.execute(table.delete().where(cond))
        conn.execute(table.insert(), rows)

    def _check_existing(self, meta: sa.MetaData) -> None:
        inspector = sa.inspect(self.engine)
        for table in meta.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            want = {c.name for c in table.columns}
            if have != want:
                raise SchemaMismatchError(
                    f"table {table.name!r} exists with columns {', '.join(sorted(have))}; this "
                    f"model writes {', '.join(sorted(want))} (use another monitor.score.table)"
                )


def _create_private_sqlite(url: sa.URL) -> None:
    """Create the SQLite file of ``url`` owner-only if it does not exist yet (it will hold
    scored rows); SQLite then opens it as an empty database. An existing file, another
    backend, an in-memory or ``file:`` URI database is left to the driver."""
    db = url.database
    if url.get_backend_name() != "sqlite" or not db or db == ":memory:":
        return
    if db.startswith("file:") or "uri" in url.query:
        return
    create_private_file(db)


def _sql_type(series: pd.Series) -> Any:
    if pd.api.types.is_bool_dtype(series):
        return sa.Boolean
    if pd.api.types.is_integer_dtype(series):
        return sa.BigInteger
    if pd.api.types.is_float_dtype(series):
        return sa.Float(53)
    return sa.String(255)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (missing -> None) for the DB driver."""
    names = list(frame.columns)
    columns = []
    for name in names:
        s = frame[name]
        if s.isna().any():
            columns.append(s.astype(object).where(s.notna(), None).tolist())
        else:
            columns.append(s.tolist())
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
