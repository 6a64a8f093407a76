"""Read a CSV or Parquet table in chunks of bounded size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from pr2prod.data.schema import DataSchema
from pr2prod.errors import DataError

PARQUET_SUFFIXES = (".parquet", ".pq")


class InputError(DataError, ValueError):
    """The input table cannot be scored at all (wrong format, missing columns)."""


def count_rows(path: Path) -> int | None:
    """Rows in a Parquet file or directory from the footers; ``None`` for CSV (needs a scan)."""
    import pyarrow.parquet as pq

    if path.is_dir():
        fs, files = parquet_files(path)
        return sum(int(pq.ParquetFile(fs.open_input_file(f)).metadata.num_rows) for f in files)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return int(pq.ParquetFile(path).metadata.num_rows)
    return None


def source_filesystem(source: str | Path, endpoint: str | None = None) -> tuple[Any, str]:
    """pyarrow's filesystem for ``source`` and the path inside it (no listing, no I/O).

    ``s3://`` URLs use ``endpoint`` (see :func:`pr2prod.batch.s3source.s3_endpoint`); other
    URLs the filesystem pyarrow has for their scheme; anything else is a local path.
    """
    import pyarrow.fs as pafs

    from pr2prod.batch.s3source import is_s3, s3_filesystem

    text = str(source)
    if is_s3(text):
        return s3_filesystem(text, endpoint)
    if "://" in text:
        return pafs.FileSystem.from_uri(text)
    return pafs.LocalFileSystem(), str(Path(text).resolve())


def parquet_files(source: str | Path, endpoint: str | None = None) -> tuple[Any, list[str]]:
    """The filesystem and the Parquet files of ``source``, in the order they are scored.

    ``source`` is a file, or a directory (partitioned Parquet: every ``.parquet``/``.pq`` file
    below it, sorted by path; names starting with ``_`` or ``.`` are skipped). A URL such as
    ``s3://bucket/prefix`` is opened with pyarrow's filesystem for its scheme (S3: at
    ``endpoint``, credentials from the environment).

    Raises:
        InputError: nothing there, a directory without Parquet files, or an object store that
            refuses the read (the message names the credentials).
    """
    import pyarrow.fs as pafs

    from pr2prod.batch.s3source import read_error

    text = str(source)
    fs, root = source_filesystem(text, endpoint)
    try:
        info = fs.get_file_info(root)
        if info.type == pafs.FileType.File:
            return fs, [root]
        if info.type != pafs.FileType.Directory:
            raise InputError(f"input {text}: no such file or directory")
        found = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    except OSError as exc:
        if "://" not in text:
            raise
        raise InputError(read_error(text, exc)) from None
    files = sorted(
        i.path
        for i in found
        if i.type == pafs.FileType.File
        and i.path.lower().endswith(PARQUET_SUFFIXES)
        and not any(
            part.startswith(("_", ".")) for part in i.path[len(root) :].strip("/").split("/")
        )
    )
    if not files:
        raise InputError(f"input {text}: a directory without .parquet files")
    return fs, files


def iter_chunks(path: str | Path, schema: DataSchema, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Yield the table's rows in order, at most ``chunk_rows`` at a time.

    ``path`` is a CSV or Parquet file, or a directory of Parquet files (see
    :func:`parquet_files`).

    Raises:
        InputError: missing file, unknown format, or feature columns absent from the table.
    """
    p = Path(path)
    if p.is_dir():  # partitioned Parquet: file by file, a chunk never spans two files
        if chunk_rows < 1:
            raise InputError(f"monitor.score.chunk_rows: must be >= 1, got {chunk_rows}")
        for name in parquet_files(p)[1]:
            yield from _parquet_chunks(Path(name), schema, chunk_rows)
        return
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
