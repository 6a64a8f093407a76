"""Read a CSV or Parquet table in chunks of bounded size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pr2prod.data.schema import DataSchema
from pr2prod.errors import DataError

PARQUET_SUFFIXES = (".parquet", ".pq")


class InputError(DataError, ValueError):
    """The input table cannot be scored at all (wrong format, missing columns)."""


def count_rows(path: Path) -> int | None:
    """Rows in a Parquet file from its footer; ``None`` for CSV (unknown without a scan)."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return None


def iter_chunks(path: str | Path, schema: DataSchema, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Yield the table's rows in order, at most ``chunk_rows`` at a time.

    Raises:
        InputError: missing file, unknown format, or feature columns absent from the table.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"input {p}: no such file (run `dvc pull {p}.dvc` if it is tracked)")
    if chunk_rows < 1:
        raise InputError(f"monitor.score.chunk_rows: must be >= 1, got {chunk_rows}")
    suffix = p.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        yield from _parquet_chunks(p, schema, chunk_rows)
    elif suffix == ".csv":
        yield from _csv_chunks(p, schema, chunk_rows)
    else:
        raise InputError(f"input {p}: expected a .csv or .parquet file")


def _check_columns(path: Path, columns: list[str], schema: DataSchema) -> None:
    missing = [f for f in schema.feature_names if f not in columns]
    if missing:
        raise InputError(
            f"input {path}: missing feature column(s) {', '.join(missing)}; the model expects "
            f"{', '.join(schema.feature_names)}"
        )


def _parquet_chunks(path: Path, schema: DataSchema, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    # pre_buffer (pyarrow's default) keeps the raw bytes of every row group read so far for
    # the life of the reader: memory would grow with the file. A buffered stream keeps it flat.
    pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=4 << 20)
    names = list(pf.schema_arrow.names)
    _check_columns(path, names, schema)
    wanted = [c for c in [schema.id_column, *schema.feature_names] if c in names]
    for batch in pf.iter_batches(batch_size=chunk_rows, columns=wanted):
        yield batch.to_pandas()


def _csv_chunks(path: Path, schema: DataSchema, chunk_rows: int) -> Iterator[pd.DataFrame]:
    header = pd.read_csv(path, nrows=0).columns.tolist()
    _check_columns(path, header, schema)
    wanted = [c for c in [schema.id_column, *schema.feature_names] if c in header]
    dtypes = {c: "string" for c in schema.categorical}
    yield from pd.read_csv(path, usecols=wanted, dtype=dtypes, chunksize=chunk_rows)
